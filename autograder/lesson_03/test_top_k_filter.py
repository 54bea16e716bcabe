"""Hidden tests for ``top_k_filter``: the distribution softmax(filtered logits) — who keeps mass, renormalised."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_03.strategies import assert_same_distribution, logit_tensors
from rlgrade.testing import reference_for
from rlgrade.testing.strategies import float_dtypes

ref = reference_for(__file__)
pytestmark = pytest.mark.question("top_k_filter")


@st.composite
def filter_cases(draw, ties: bool | None = None):
    logits = draw(logit_tensors(ties=draw(st.booleans()) if ties is None else ties))
    k = draw(st.integers(1, logits.shape[-1] + 2))
    return logits, k


def check(student, logits: torch.Tensor, k: int, what: str = "top_k_filter(logits, k)") -> None:
    got = student.top_k_filter(logits, k)
    assert_same_distribution(got, ref.top_k_filter(logits, k), what, {"logits": logits, "k": k})


@pytest.mark.points(3)
@given(case=filter_cases())
def test_matches_reference(student, case):
    """The filtered distribution matches on random logits (with and without ties) and k from 1 to V + 2."""
    check(student, *case)


@pytest.mark.points(2)
@settings(max_examples=10)
@given(case=filter_cases(ties=True), dtype=float_dtypes())
def test_ties_at_the_kth_value_all_survive(student, case, dtype):
    """Every token tied with the k-th largest logit keeps its mass (more than k tokens may survive)."""
    for logits, k in (([1.0, 3.0, 2.0, 3.0], 1), ([1.0, 3.0, 2.0, 3.0], 2), ([2.0, 2.0, 2.0], 1),
                      ([0.0, 5.0, 5.0, 1.0, 5.0], 2), ([4.0, 1.0, 1.0, 1.0, 0.0], 2)):
        check(student, torch.tensor(logits, dtype=dtype), k, f"top_k_filter({logits}, k={k})")
    check(student, *case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(logits=logit_tensors(), extra=st.integers(0, 3))
def test_k_at_least_V_keeps_everything(student, logits, extra):
    """With k >= V every token keeps its probability: the distribution is softmax(logits) itself."""
    k = logits.shape[-1] + extra
    check(student, logits, k, f"top_k_filter(logits, k={k}) with V = {logits.shape[-1]}")


@pytest.mark.points(1)
@settings(max_examples=10)
@given(logits=logit_tensors(min_vocab=2))
def test_k_one_keeps_only_the_largest(student, logits):
    """k = 1 leaves all the mass on the largest logit (shared equally among tokens tied at the maximum)."""
    check(student, logits, 1, "top_k_filter(logits, k=1)")


@pytest.mark.points(1)
@given(dtype=float_dtypes())
def test_filters_the_last_axis_of_any_shape(student, dtype):
    """The filter acts on the last axis of a 1-D [V] and of a 3-D [B, T, V] tensor alike."""
    one = torch.tensor([0.5, -1.0, 2.0, 1.5, 0.0], dtype=dtype)
    check(student, one, 2, "top_k_filter(logits [5], k=2)")
    three = torch.arange(24, dtype=dtype).reshape(2, 3, 4).remainder(7.0)
    check(student, three, 2, "top_k_filter(logits [2, 3, 4], k=2)")


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=filter_cases())
def test_does_not_modify_inputs(student, case):
    """top_k_filter leaves the logits unchanged (and returns the right distribution)."""
    logits, k = case
    result = student.call("top_k_filter", logits, k)
    assert not result.mutated, "top_k_filter modified the logits in place (write the -inf into a new tensor)"
    assert_same_distribution(result.value, ref.top_k_filter(logits, k), "top_k_filter(logits, k)",
                             {"logits": logits, "k": k})
