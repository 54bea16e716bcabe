"""Hidden tests for ``top_p_filter``: the nucleus distribution — who keeps mass (ties: lower index first)."""

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_03.strategies import assert_same_distribution, nucleus_cases
from rlgrade.testing import reference_for
from rlgrade.testing.strategies import float_dtypes

ref = reference_for(__file__)
pytestmark = pytest.mark.question("top_p_filter")


def check(student, logits: torch.Tensor, p: float, what: str = "top_p_filter(logits, p)") -> torch.Tensor:
    got = student.top_p_filter(logits, p)
    assert_same_distribution(got, ref.top_p_filter(logits, p), what, {"logits": logits, "p": p})
    return got


@pytest.mark.points(3)
@given(case=nucleus_cases())
def test_matches_reference(student, case):
    """The nucleus distribution matches on random logits (with and without ties) and p away from the partial sums."""
    check(student, *case)


@pytest.mark.points(2)
@settings(max_examples=10)
@given(case=nucleus_cases(ties=True), dtype=float_dtypes())
def test_ties_go_to_the_lower_index(student, case, dtype):
    """When the cut falls inside a group of equal probabilities, the lower token indices survive."""
    for logits, p in (([0.0, 0.0, 0.0, 0.0], 0.3), ([0.0, 0.0, 0.0, 0.0], 0.6), ([0.0, 1.0, 1.0, 0.0], 0.2),
                      ([0.0, 1.0, 1.0, 0.0], 0.8), ([2.0, 0.0, 2.0, 2.0, 0.0], 0.5)):
        check(student, torch.tensor(logits, dtype=dtype), p, f"top_p_filter({logits}, p={p})")
    check(student, *case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=nucleus_cases())
def test_small_p_keeps_only_the_top_token(student, case):
    """A p below the largest probability keeps exactly one token per row: the most likely (lowest index on ties)."""
    logits, _ = case
    p = 0.5 * float(torch.softmax(logits.double(), dim=-1).max(dim=-1).values.min())
    check(student, logits, p, f"top_p_filter(logits, p={p:.4g})")


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=nucleus_cases())
def test_kept_mass_reaches_p_and_is_minimal(student, case):
    """The surviving tokens carry probability >= p, and without the least likely survivor they would not."""
    logits, p = case
    got = check(student, logits, p)
    probs = torch.softmax(logits.double(), dim=-1)
    kept = torch.softmax(got.double(), dim=-1) > 0
    mass = (probs * kept).sum(dim=-1)
    smallest = torch.where(kept, probs, torch.ones_like(probs)).min(dim=-1).values
    assert bool((mass >= p - 1e-6).all()), f"the surviving tokens carry {mass!r} < p = {p}"
    assert bool((mass - smallest < p + 1e-6).all()), f"the nucleus is not minimal: {mass - smallest!r} >= p = {p}"


@pytest.mark.points(1)
@given(dtype=float_dtypes())
def test_filters_the_last_axis_of_any_shape(student, dtype):
    """The filter acts on the last axis of a 1-D [V] and of a 3-D [B, T, V] tensor alike."""
    one = torch.log(torch.tensor([0.1, 0.5, 0.15, 0.25], dtype=dtype))
    check(student, one, 0.7, "top_p_filter(logits [4], p=0.7)")
    three = torch.arange(24, dtype=dtype).reshape(2, 3, 4).remainder(5.0) * 0.7
    check(student, three, 0.55, "top_p_filter(logits [2, 3, 4], p=0.55)")


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=nucleus_cases())
def test_does_not_modify_inputs(student, case):
    """top_p_filter leaves the logits unchanged (and returns the right distribution)."""
    logits, p = case
    result = student.call("top_p_filter", logits, p)
    assert not result.mutated, "top_p_filter modified the logits in place (write the -inf into a new tensor)"
    assert_same_distribution(result.value, ref.top_p_filter(logits, p), "top_p_filter(logits, p)",
                             {"logits": logits, "p": p})
