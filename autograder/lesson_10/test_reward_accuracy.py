"""Hidden tests for ``reward_accuracy``: the fraction of pairs with chosen > rejected, ties counting half."""

import pytest
import torch
from hypothesis import given

from autograder.lesson_10.strategies import score_pairs
from rlgrade.testing import assert_close
from rlgrade.testing.strategies import float_dtypes

pytestmark = pytest.mark.question("reward_accuracy")
RTOL, ATOL = 1e-6, 1e-12


def exact(pairs: dict) -> float:
    chosen, rejected = pairs["chosen_scores"].tolist(), pairs["rejected_scores"].tolist()
    return sum(1.0 if c > r else 0.5 if c == r else 0.0 for c, r in zip(chosen, rejected)) / len(chosen)


def check_float(got: object, inputs: dict) -> None:
    if type(got) is not float:
        raise AssertionError(f"reward_accuracy should return a Python float, got {type(got).__name__}: {got!r}\n"
                             f"  inputs: {inputs}")


@pytest.mark.points(2)
@given(pairs=score_pairs())
def test_matches_pairwise_accuracy(student, pairs):
    """Accuracy matches on random score pairs with many exact ties (float32 and float64)."""
    got = student.reward_accuracy(**pairs)
    check_float(got, pairs)
    assert_close(got, exact(pairs), rtol=RTOL, atol=ATOL, what="the accuracy", inputs=pairs)


@pytest.mark.points(1)
@given(dtype=float_dtypes())
def test_ties_count_half(student, dtype):
    """A tie counts half: equal scores everywhere give 0.5 (chance level), and ties mix with right and wrong pairs."""
    cases = [([2.0, 2.0, -1.0], [2.0, 2.0, -1.0], 0.5), ([1.0, 0.0], [1.0, -3.0], 0.75),
             ([0.0, 0.0, 0.0, 7.0], [0.0, 1.0, 2.0, 7.0], 0.25)]
    for chosen, rejected, expected in cases:
        pairs = {"chosen_scores": torch.tensor(chosen, dtype=dtype),
                 "rejected_scores": torch.tensor(rejected, dtype=dtype)}
        got = student.reward_accuracy(**pairs)
        check_float(got, pairs)
        assert_close(got, expected, rtol=RTOL, atol=ATOL, what="the accuracy", inputs=pairs)


@pytest.mark.points(1)
@given(pairs=score_pairs())
def test_swapping_chosen_and_rejected(student, pairs):
    """Swapping chosen and rejected turns the accuracy a into 1 - a (and a is right)."""
    swapped = {"chosen_scores": pairs["rejected_scores"], "rejected_scores": pairs["chosen_scores"]}
    got, flipped = student.reward_accuracy(**pairs), student.reward_accuracy(**swapped)
    check_float(got, pairs)
    assert_close(got, exact(pairs), rtol=RTOL, atol=ATOL, what="the accuracy", inputs=pairs)
    assert_close(flipped, 1.0 - exact(pairs), rtol=RTOL, atol=1e-7, what="the accuracy of the swapped pairs",
                 inputs=swapped)


@pytest.mark.points(1)
@given(pairs=score_pairs(large=True))
def test_large_and_close_scores(student, pairs):
    """Scores as large as 5e4 and float64 scores closer than float32 can tell apart are ranked exactly."""
    got = student.reward_accuracy(**pairs)
    check_float(got, pairs)
    assert_close(got, exact(pairs), rtol=RTOL, atol=ATOL, what="the accuracy", inputs=pairs)
    close = {"chosen_scores": torch.tensor([1.0 + 1e-12, 2.0, -3.0, 7.0], dtype=torch.float64),
             "rejected_scores": torch.tensor([1.0, 2.0 + 1e-12, -3.0, 7.0 - 1e-10], dtype=torch.float64)}
    got = student.reward_accuracy(**close)
    check_float(got, close)
    assert_close(got, 0.625, rtol=RTOL, atol=ATOL, what="the accuracy of float64 scores 1e-12 apart", inputs=close)


@pytest.mark.points(1)
@given(pairs=score_pairs())
def test_does_not_modify_inputs(student, pairs):
    """reward_accuracy leaves both score tensors unchanged (and returns the right accuracy)."""
    result = student.call("reward_accuracy", **pairs)
    assert not result.mutated, f"reward_accuracy modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    check_float(result.value, pairs)
    assert_close(result.value, exact(pairs), rtol=RTOL, atol=ATOL, what="the accuracy", inputs=pairs)
