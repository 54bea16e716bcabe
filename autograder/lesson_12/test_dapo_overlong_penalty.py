"""Hidden tests for ``dapo_overlong_penalty``: 0, then a linear ramp down to -1 at max_len, then -1."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_12.strategies import CONFIGS, LENGTH_DTYPES, exact_penalty, length_batches
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("dapo_overlong_penalty")


def result_dtype(lengths: torch.Tensor) -> torch.dtype:
    return lengths.dtype if lengths.is_floating_point() else torch.float32


@pytest.mark.points(3)
@given(batch=length_batches())
def test_matches_reference(student, batch):
    """Penalties match on random lengths (int64, int32, float32, float64) for several (max_len, cache_len)."""
    lengths, max_len, cache_len = batch
    kwargs = {"lengths": lengths, "max_len": max_len, "cache_len": cache_len}
    assert_close(student.dapo_overlong_penalty(**kwargs), ref.dapo_overlong_penalty(**kwargs), inputs=kwargs)


@pytest.mark.points(2)
@given(config=st.sampled_from(CONFIGS), dtype=st.sampled_from(LENGTH_DTYPES))
def test_boundaries(student, config, dtype):
    """L = max_len - cache_len gives 0, one token more gives -1/cache_len, L = max_len gives -1, beyond stays -1."""
    max_len, cache_len = config
    expected_len = max_len - cache_len
    points = [0, expected_len - 1, expected_len, expected_len + 1, max_len - 1, max_len, max_len + 1, 3 * max_len]
    points = [n for n in points if n >= 0]
    lengths = torch.tensor(points).to(dtype)
    kwargs = {"lengths": lengths, "max_len": max_len, "cache_len": cache_len}
    expected = torch.tensor(exact_penalty(points, max_len, cache_len), dtype=result_dtype(lengths))
    assert_close(student.dapo_overlong_penalty(**kwargs), expected,
                 what=f"the penalties around L_max - L_cache = {expected_len} and L_max = {max_len}", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=length_batches(dtype=torch.int64), int_dtype=st.sampled_from([torch.int64, torch.int32]))
def test_integer_lengths_give_float32(student, batch, int_dtype):
    """Integer token counts (int64 or int32) give float32 penalties with the fractional ramp values (no //)."""
    lengths, max_len, cache_len = batch
    kwargs = {"lengths": lengths.to(int_dtype), "max_len": max_len, "cache_len": cache_len}
    expected = torch.tensor(exact_penalty(lengths.tolist(), max_len, cache_len), dtype=torch.float32)
    assert_close(student.dapo_overlong_penalty(**kwargs), expected, what="the penalties of integer lengths",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(config=st.sampled_from(CONFIGS), dtype=st.sampled_from(LENGTH_DTYPES))
def test_each_extra_token_costs_one_over_cache_len(student, config, dtype):
    """Across the ramp the penalty never rises, stays in [-1, 0] and drops by exactly 1/cache_len per extra token."""
    max_len, cache_len = config
    if cache_len <= 60:   # the whole ramp and two lengths on either side
        points = list(range(max(max_len - cache_len - 2, 0), max_len + 3))
    else:                 # DAPO's own sizes: the last 60 lengths of the ramp and beyond
        points = list(range(max_len - 60, max_len + 3))
    lengths = torch.tensor(points).to(dtype)
    kwargs = {"lengths": lengths, "max_len": max_len, "cache_len": cache_len}
    got = student.dapo_overlong_penalty(**kwargs)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == (len(points),), (
        f"dapo_overlong_penalty should return a tensor of shape {(len(points),)}, got {got!r}")
    steps = got.double().diff()
    expected_steps = torch.tensor(exact_penalty(points, max_len, cache_len), dtype=torch.float64).diff()
    assert_close(steps, expected_steps, atol=1e-6, what="the change of the penalty from one length to the next",
                 inputs=kwargs)
    assert bool((got >= -1).all()) and bool((got <= 0).all()), f"penalties outside [-1, 0]: {got}"


@pytest.mark.points(1)
@given(batch=length_batches())
def test_does_not_modify_inputs(student, batch):
    """dapo_overlong_penalty leaves the lengths tensor unchanged (and returns the right penalties)."""
    lengths, max_len, cache_len = batch
    result = student.call("dapo_overlong_penalty", lengths, max_len, cache_len)
    assert not result.mutated, (
        f"dapo_overlong_penalty modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.dapo_overlong_penalty(lengths, max_len, cache_len),
                 inputs={"lengths": lengths, "max_len": max_len, "cache_len": cache_len})
