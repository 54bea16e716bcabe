"""Hidden tests for ``bradley_terry_loss``: mean(-log sigmoid(r_chosen - r_rejected))."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_04.strategies import (
    assert_finite_where_expected,
    reward_pairs,
    rounding_atol,
)
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("bradley_terry_loss")


def atol(pairs: dict) -> float:
    return rounding_atol(pairs["chosen_rewards"].dtype, *pairs.values())


@pytest.mark.points(3)
@given(pairs=reward_pairs())
def test_matches_reference(student, pairs):
    """The loss matches on random reward pairs, float32 and float64."""
    assert_close(student.bradley_terry_loss(**pairs), ref.bradley_terry_loss(**pairs), atol=atol(pairs), inputs=pairs)


def untied(pairs: dict) -> bool:
    """No exact tie: the stable textbook form relu(-m) + log1p(exp(-|m|)) is right everywhere, but autograd's
    subgradient 0 for relu and abs at m = 0 gives it a wrong gradient at exactly that point; do not test it there."""
    return bool(((pairs["chosen_rewards"] - pairs["rejected_rewards"]).abs() > 1e-3).all())


@pytest.mark.points(2)
@settings(max_examples=10)
@given(pairs=reward_pairs().filter(untied))
def test_gradient_matches_reference(student, pairs):
    """Gradients w.r.t. the chosen and the rejected rewards match (-sigmoid(r_r - r_c) / B and its negative)."""
    wrt = ["chosen_rewards", "rejected_rewards"]
    got = student.grad("bradley_terry_loss", (), pairs, wrt=wrt)
    _, expected = reference_grad(ref.bradley_terry_loss, (), pairs, wrt=wrt)
    assert_close(got.grads, expected, what="the gradients (d/d chosen, d/d rejected)", inputs=pairs)


@pytest.mark.points(2)
@given(pairs=reward_pairs(large=True))
def test_large_margins_are_stable(student, pairs):
    """Reward margins as large as 1e4 in absolute value (and rewards near ±1e4) give a finite, accurate loss."""
    got = student.bradley_terry_loss(**pairs)
    expected = ref.bradley_terry_loss(**pairs)
    assert_finite_where_expected(got, expected, "the loss", pairs,
                                 "log(sigmoid(m)) is log(0) = -inf for m = -1e4: use F.logsigmoid (= -softplus(-m)).")
    assert_close(got, expected, atol=atol(pairs), inputs=pairs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), rewards=st.lists(st.sampled_from([0.0, 1.5, -3.0, 1e4, -1e4]), min_size=1, max_size=5))
def test_equal_rewards_give_log_2(student, dtype, rewards):
    """When every chosen reward equals its rejected reward, the loss is ln 2 (a coin flip)."""
    r = torch.tensor(rewards, dtype=dtype)
    assert_close(student.bradley_terry_loss(r, r.clone()), torch.tensor(math.log(2.0), dtype=dtype),
                 what="the loss of tied pairs", inputs={"chosen_rewards": r, "rejected_rewards": r})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(pairs=reward_pairs())
def test_swapping_adds_the_mean_margin(student, pairs):
    """Swapping chosen and rejected raises the loss by exactly mean(r_c - r_r), since log s(m) - log s(-m) = m."""
    c, r = pairs["chosen_rewards"], pairs["rejected_rewards"]
    forward = student.bradley_terry_loss(c, r)
    backward = student.bradley_terry_loss(r, c)
    assert_close(forward, ref.bradley_terry_loss(c, r), atol=atol(pairs), inputs=pairs)
    assert_close(backward, ref.bradley_terry_loss(r, c), atol=atol(pairs), what="the loss with the roles swapped",
                 inputs=pairs)
    mean_margin = (c.double() - r.double()).mean()
    assert_close((backward.double() - forward.double()), mean_margin, atol=4 * atol(pairs),
                 what="loss(rejected, chosen) - loss(chosen, rejected)", inputs=pairs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(pairs=reward_pairs(), data=st.data())
def test_only_differences_matter(student, pairs, data):
    """Adding the same constant (up to ±1e3) to both rewards of each pair leaves the loss unchanged."""
    shift = data.draw(tensors(tuple(pairs["chosen_rewards"].shape), pairs["chosen_rewards"].dtype, floats(-1e3, 1e3)))
    shifted = {k: v + shift for k, v in pairs.items()}
    assert_close(student.bradley_terry_loss(**shifted), ref.bradley_terry_loss(**pairs), atol=4 * atol(shifted),
                 what="the loss after shifting both rewards of each pair", inputs=shifted)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(pairs=reward_pairs())
def test_does_not_modify_inputs(student, pairs):
    """bradley_terry_loss leaves the reward tensors unchanged (and returns the right loss)."""
    result = student.call("bradley_terry_loss", **pairs)
    assert not result.mutated, f"bradley_terry_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.bradley_terry_loss(**pairs), atol=atol(pairs), inputs=pairs)
