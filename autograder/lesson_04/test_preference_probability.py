"""Hidden tests for ``preference_probability``: sigmoid(r_a - r_b), elementwise."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_04.strategies import (
    assert_finite_where_expected,
    magnitude,
    reward_tensors,
)
from rlgrade.testing import assert_close, reference_for, tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("preference_probability")


def atol(r_a: torch.Tensor, r_b: torch.Tensor) -> float:
    """sigmoid has slope <= 1/4, so an error of a few ulps in r_a - r_b moves P by at most that much."""
    return max(tolerance_for(r_a.dtype)[1], 4 * torch.finfo(r_a.dtype).eps * magnitude(r_a, r_b))


@pytest.mark.points(3)
@given(rewards=reward_tensors())
def test_matches_reference(student, rewards):
    """Probabilities match for rewards of shape (), (N,) and (B, N), float32 and float64."""
    r_a, r_b = rewards
    assert_close(student.preference_probability(r_a, r_b), ref.preference_probability(r_a, r_b), atol=atol(r_a, r_b),
                 inputs={"r_a": r_a, "r_b": r_b})


@pytest.mark.points(2)
@given(rewards=reward_tensors(large=True))
def test_large_rewards_are_stable(student, rewards):
    """Rewards as large as ±1e4 give finite probabilities in [0, 1] (0 or 1 far out in the tails), not NaN."""
    r_a, r_b = rewards
    got = student.preference_probability(r_a, r_b)
    expected = ref.preference_probability(r_a, r_b)
    assert_finite_where_expected(got, expected, "the probability", {"r_a": r_a, "r_b": r_b},
                                 "exp(r_a) / (exp(r_a) + exp(r_b)) is inf/inf for large rewards: use "
                                 "torch.sigmoid(r_a - r_b).")
    assert_close(got, expected, atol=atol(r_a, r_b), inputs={"r_a": r_a, "r_b": r_b})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(rewards=reward_tensors())
def test_the_two_orders_sum_to_one(student, rewards):
    """P(a > b) + P(b > a) = 1 (and P(a > b) is right)."""
    r_a, r_b = rewards
    p_ab = student.preference_probability(r_a, r_b)
    p_ba = student.preference_probability(r_b, r_a)
    inputs = {"r_a": r_a, "r_b": r_b}
    assert_close(p_ab, ref.preference_probability(r_a, r_b), atol=atol(r_a, r_b), inputs=inputs)
    assert_close(p_ba, ref.preference_probability(r_b, r_a), atol=atol(r_a, r_b), what="P(b > a)", inputs=inputs)
    assert_close(p_ab + p_ba, torch.ones_like(r_a), what="P(a > b) + P(b > a)", inputs=inputs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), values=st.lists(st.sampled_from([0.0, 2.0, -7.5, 1e4, -1e4]), min_size=1, max_size=4))
def test_equal_rewards_give_one_half(student, dtype, values):
    """Equal rewards (whatever their size) give probability 1/2."""
    r = torch.tensor(values, dtype=dtype)
    assert_close(student.preference_probability(r, r.clone()), torch.full_like(r, 0.5),
                 what="P(a > b) for equal rewards", inputs={"r_a": r, "r_b": r})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(rewards=reward_tensors(), data=st.data())
def test_only_the_difference_matters(student, rewards, data):
    """Adding the same constant (up to ±1e3) to both rewards leaves the probability unchanged."""
    r_a, r_b = rewards
    shift = data.draw(tensors(tuple(r_a.shape), r_a.dtype, floats(-1e3, 1e3)))
    a, b = r_a + shift, r_b + shift
    assert_close(student.preference_probability(a, b), ref.preference_probability(r_a, r_b), atol=4 * atol(a, b),
                 what="P(a > b) after shifting both rewards", inputs={"r_a": a, "r_b": b})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(rewards=reward_tensors())
def test_does_not_modify_inputs(student, rewards):
    """preference_probability leaves its inputs unchanged (and returns the right probabilities)."""
    r_a, r_b = rewards
    result = student.call("preference_probability", r_a, r_b)
    assert not result.mutated, (
        f"preference_probability modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.preference_probability(r_a, r_b), atol=atol(r_a, r_b),
                 inputs={"r_a": r_a, "r_b": r_b})
