"""Hidden tests for ``entropy_from_logits``: H = -sum p log p of softmax(logits) over the last axis, in nats."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_03.strategies import (
    assert_finite_where_expected,
    logit_atol,
    logit_tensors,
)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("entropy_from_logits")

STABILITY_HINT = ("softmax(x) * log(softmax(x)) gives 0 * log(0) = NaN once a probability underflows: use "
                  "F.log_softmax for log p (finite), so an underflowed p contributes 0 * finite = 0.")


@pytest.mark.points(3)
@given(logits=logit_tensors())
def test_matches_reference(student, logits):
    """Entropies match for inputs of shape [V], [B, V] and [B, T, V], float32 and float64."""
    assert_close(student.entropy_from_logits(logits), ref.entropy_from_logits(logits),
                 atol=logit_atol(logits.dtype, logits), inputs={"logits": logits})


@pytest.mark.points(2)
@settings(max_examples=15)
@given(logits=logit_tensors(large=True))
def test_large_logits_are_stable(student, logits):
    """Logits as large as 1e4 in absolute value (spread out, or a large common offset) give finite, accurate entropies."""
    got = student.entropy_from_logits(logits)
    expected = ref.entropy_from_logits(logits)
    assert_finite_where_expected(got, expected, "the entropy", {"logits": logits}, STABILITY_HINT)
    assert_close(got, expected, atol=logit_atol(logits.dtype, logits), inputs={"logits": logits})


@pytest.mark.points(1)
@given(dtype=float_dtypes(), vocab=st.integers(1, 8), value=st.sampled_from([0.0, 3.5, -7.0, 1e4, -1e4]))
def test_uniform_distribution_gives_log_V(student, dtype, vocab, value):
    """All-equal logits (whatever their value, up to ±1e4) give the maximum entropy ln V."""
    logits = torch.full((2, vocab), value, dtype=dtype)
    got = student.entropy_from_logits(logits)
    assert_close(got, torch.full((2,), math.log(vocab), dtype=dtype), atol=logit_atol(dtype, logits),
                 what=f"the entropy of a uniform distribution over V = {vocab} tokens", inputs={"logits": logits})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(logits=logit_tensors())
def test_between_zero_and_log_V(student, logits):
    """Every entropy lies in [0, ln V] (and matches the reference)."""
    got = student.entropy_from_logits(logits)
    expected = ref.entropy_from_logits(logits)
    vocab = logits.shape[-1]
    if isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(expected.shape) and got.numel():
        g = got.to(torch.float64)
        slack = 1e-5
        assert bool((g >= -slack).all()) and bool((g <= math.log(vocab) + slack).all()), (
            f"entropies must lie in [0, ln V] = [0, {math.log(vocab):.6g}], got {got!r}\n  inputs: logits={logits!r}")
    assert_close(got, expected, atol=logit_atol(logits.dtype, logits), inputs={"logits": logits})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(logits=logit_tensors(), data=st.data())
def test_adding_a_constant_to_a_row_changes_nothing(student, logits, data):
    """Adding the same constant (up to ±1e3) to every logit of a distribution leaves its entropy unchanged."""
    shift = data.draw(tensors(tuple(logits.shape[:-1]), logits.dtype, floats(-1e3, 1e3)))
    shifted = logits + shift[..., None]
    assert_close(student.entropy_from_logits(shifted), ref.entropy_from_logits(logits),
                 atol=logit_atol(logits.dtype, shifted) * 4, what="the entropy of the shifted logits",
                 inputs={"logits": shifted})


@pytest.mark.points(1)
@given(dtype=float_dtypes(), vocab=st.integers(2, 8), gap=st.sampled_from([200.0, 1e3, 1e4]))
def test_one_dominant_token_gives_zero_not_nan(student, dtype, vocab, gap):
    """A token far above the others (gap 200 to 1e4) gives entropy 0, not NaN; a uniform row next to it gives ln V."""
    logits = torch.zeros(2, vocab, dtype=dtype)
    logits[0, vocab // 2] = gap
    got = student.entropy_from_logits(logits)
    expected = torch.tensor([0.0, math.log(vocab)], dtype=dtype)
    assert_finite_where_expected(got, expected, "the entropy", {"logits": logits}, STABILITY_HINT)
    assert_close(got, expected, what="the entropies of a one-token-dominated row and a uniform row",
                 inputs={"logits": logits})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(logits=logit_tensors())
def test_does_not_modify_inputs(student, logits):
    """entropy_from_logits leaves the logits unchanged (and returns the right entropies)."""
    result = student.call("entropy_from_logits", logits)
    assert not result.mutated, "entropy_from_logits modified its input in place"
    assert_close(result.value, ref.entropy_from_logits(logits), atol=logit_atol(logits.dtype, logits),
                 inputs={"logits": logits})
