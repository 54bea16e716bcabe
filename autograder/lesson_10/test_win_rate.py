"""Hidden tests for ``win_rate``: the mean of outcomes in {1, 0.5, 0}, a tie counting half."""

import pytest
import torch
from hypothesis import given

from autograder.lesson_10.strategies import outcome_vectors
from rlgrade.testing import assert_close
from rlgrade.testing.strategies import float_dtypes

pytestmark = pytest.mark.question("win_rate")
RTOL, ATOL = 1e-6, 1e-12
"""A float32 mean is correctly rounded to float32: about 6e-8 relative."""


def exact(outcomes: torch.Tensor) -> float:
    return float(outcomes.double().sum()) / outcomes.numel()


def check_float(got: object, inputs: dict) -> None:
    if type(got) is not float:
        raise AssertionError(f"win_rate should return a Python float, got {type(got).__name__}: {got!r}\n"
                             f"  inputs: {inputs}")


@pytest.mark.points(2)
@given(outcomes=outcome_vectors())
def test_matches_mean_outcome(student, outcomes):
    """The win rate is the mean outcome on random wins, ties and losses (float32 and float64)."""
    got = student.win_rate(outcomes)
    check_float(got, {"outcomes": outcomes})
    assert_close(got, exact(outcomes), rtol=RTOL, atol=ATOL, what="the win rate", inputs={"outcomes": outcomes})


@pytest.mark.points(1)
@given(dtype=float_dtypes())
def test_ties_count_half(student, dtype):
    """A tie counts half a win: all ties give 0.5, and ties stay in the denominator."""
    cases = [([0.5, 0.5, 0.5], 0.5), ([1.0, 0.5], 0.75), ([0.5, 0.0, 0.0, 0.5], 0.25), ([1.0, 0.5, 0.5, 0.5, 0.0], 0.5)]
    for values, expected in cases:
        outcomes = torch.tensor(values, dtype=dtype)
        got = student.win_rate(outcomes)
        check_float(got, {"outcomes": outcomes})
        assert_close(got, expected, rtol=RTOL, atol=ATOL, what="the win rate", inputs={"outcomes": outcomes})


@pytest.mark.points(1)
@given(outcomes=outcome_vectors())
def test_swapping_sides(student, outcomes):
    """The baseline's win rate (outcomes 1 - o) is one minus the model's, and both are right."""
    mine, theirs = student.win_rate(outcomes), student.win_rate(1 - outcomes)
    check_float(mine, {"outcomes": outcomes})
    assert_close(mine, exact(outcomes), rtol=RTOL, atol=ATOL, what="the win rate", inputs={"outcomes": outcomes})
    assert_close(theirs, 1.0 - exact(outcomes), rtol=RTOL, atol=1e-7, what="the win rate of 1 - outcomes",
                 inputs={"outcomes": 1 - outcomes})


@pytest.mark.points(1)
@given(outcomes=outcome_vectors(dtype=torch.float64, ties=False))
def test_integer_outcomes(student, outcomes):
    """Integer 0/1 outcomes (no ties) work and give a Python float."""
    outcomes = outcomes.to(torch.int64)
    got = student.win_rate(outcomes)
    check_float(got, {"outcomes": outcomes})
    assert_close(got, exact(outcomes), rtol=RTOL, atol=ATOL, what="the win rate", inputs={"outcomes": outcomes})


@pytest.mark.points(1)
@given(outcomes=outcome_vectors())
def test_does_not_modify_inputs(student, outcomes):
    """win_rate leaves the outcomes unchanged (and returns the right rate)."""
    result = student.call("win_rate", outcomes)
    assert not result.mutated, f"win_rate modified its input in place: {', '.join(map(str, result.mutated))}"
    check_float(result.value, {"outcomes": outcomes})
    assert_close(result.value, exact(outcomes), rtol=RTOL, atol=ATOL, what="the win rate",
                 inputs={"outcomes": outcomes})
