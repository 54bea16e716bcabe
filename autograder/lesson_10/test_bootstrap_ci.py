"""Hidden tests for ``bootstrap_ci``: the pinned percentile bootstrap, compared draw for draw from one seed."""

import itertools

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_10.strategies import (
    CONFIDENCES,
    EXACT_SCORES,
    RESAMPLES,
    SEEDS,
    generator,
    score_vectors,
)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes

ref = reference_for(__file__)
pytestmark = pytest.mark.question("bootstrap_ci")


def ci_atol(values: torch.Tensor) -> float:
    """Rounding room: a resample mean summed in another order moves by a few ulps of max |value|."""
    dtype = values.dtype if values.is_floating_point() else torch.float32
    largest = float(values.double().abs().max()) if values.numel() else 0.0
    return 16 * torch.finfo(dtype).eps * max(1.0, largest)


def check_pair(got: object, inputs: dict) -> None:
    if not (isinstance(got, (tuple, list)) and len(got) == 2 and all(type(v) is float for v in got)):
        raise AssertionError(f"bootstrap_ci should return a tuple (lo, hi) of two Python floats, got {got!r}\n"
                             f"  inputs: {inputs}")


def call(student, values, n_resamples, confidence, seed):
    """The student's and the reference's interval, each drawn with its own generator of the same seed."""
    inputs = {"values": values, "n_resamples": n_resamples, "confidence": confidence, "generator seed": seed}
    got = student.bootstrap_ci(values, n_resamples, confidence, generator(seed))
    check_pair(got, inputs)
    return got, ref.bootstrap_ci(values, n_resamples, confidence, generator(seed)), inputs


@pytest.mark.points(3)
@given(values=score_vectors(), n_resamples=RESAMPLES, confidence=CONFIDENCES, seed=SEEDS)
def test_matches_reference(student, values, n_resamples, confidence, seed):
    """(lo, hi) match the pinned algorithm from the same seed (0/1, graded, real scores; float32/64; several R, c)."""
    got, expected, inputs = call(student, values, n_resamples, confidence, seed)
    assert_close(tuple(got), expected, rtol=0.0, atol=ci_atol(values), what="(lo, hi)", inputs=inputs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), size=st.integers(1, 12), constant=st.sampled_from(EXACT_SCORES),
       n_resamples=RESAMPLES, confidence=CONFIDENCES, seed=SEEDS)
def test_constant_scores_give_a_point(student, dtype, size, constant, n_resamples, confidence, seed):
    """Identical scores v give exactly (v, v), and a single score v1 gives (v1, v1)."""
    values = torch.full((size,), constant, dtype=dtype)
    got, _, inputs = call(student, values, n_resamples, confidence, seed)
    assert_close(tuple(got), (constant, constant), rtol=0.0, atol=ci_atol(values), what="(lo, hi) of constant scores",
                 inputs=inputs)
    single = torch.tensor([constant + 1.5], dtype=dtype)
    got, _, inputs = call(student, single, n_resamples, confidence, seed)
    assert_close(tuple(got), (constant + 1.5, constant + 1.5), rtol=0.0, atol=ci_atol(single),
                 what="(lo, hi) of a single score", inputs=inputs)


@pytest.mark.points(1)
@given(values=score_vectors(min_size=2), n_resamples=st.sampled_from([50, 200]), seed=SEEDS)
def test_higher_confidence_gives_a_wider_interval(student, values, n_resamples, seed):
    """From the same seed the 50%, 90% and 99% intervals are nested (lo <= hi), and each is the right one."""
    intervals = []
    for confidence in (0.5, 0.9, 0.99):
        got, expected, inputs = call(student, values, n_resamples, confidence, seed)
        assert_close(tuple(got), expected, rtol=0.0, atol=ci_atol(values), what=f"(lo, hi) at confidence {confidence}",
                     inputs=inputs)
        intervals.append(got)
    for (lo, hi), (wider_lo, wider_hi) in itertools.pairwise(intervals):
        assert wider_lo <= lo <= hi <= wider_hi, (
            f"the intervals for confidence 0.5, 0.9, 0.99 should be nested, got {intervals}")


@pytest.mark.points(1)
@given(values=score_vectors(dtype=torch.float64), n_resamples=RESAMPLES, confidence=CONFIDENCES, seed=SEEDS)
def test_integer_scores(student, values, n_resamples, confidence, seed):
    """Integer scores (0/1 correctness, judge grades) are bootstrapped as float32 values."""
    values = values.round().to(torch.int64)
    got, expected, inputs = call(student, values, n_resamples, confidence, seed)
    assert_close(tuple(got), expected, rtol=0.0, atol=ci_atol(values), what="(lo, hi)", inputs=inputs)


@pytest.mark.points(1)
@given(values=score_vectors(), n_resamples=RESAMPLES, confidence=CONFIDENCES, seed=SEEDS)
def test_does_not_modify_inputs(student, values, n_resamples, confidence, seed):
    """bootstrap_ci leaves the scores unchanged (and returns the right interval)."""
    result = student.call("bootstrap_ci", values, n_resamples, confidence, generator(seed))
    inputs = {"values": values, "n_resamples": n_resamples, "confidence": confidence, "generator seed": seed}
    assert not result.mutated, f"bootstrap_ci modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    check_pair(result.value, inputs)
    expected = ref.bootstrap_ci(values, n_resamples, confidence, generator(seed))
    assert_close(tuple(result.value), expected, rtol=0.0, atol=ci_atol(values), what="(lo, hi)", inputs=inputs)
