"""Hidden tests for ``softmax_policy_gradient``: dJ/dtheta = pi * (r - pi . r) for J = E_{a ~ softmax(theta)}[r_a]."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_06.strategies import (
    LARGE,
    MAX_ACTIONS,
    SECONDARY_EXAMPLES,
    assert_finite,
    bandits,
    largest,
    scaled_atol,
)
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("softmax_policy_gradient")
OVERFLOW_HINT = "exp() of a large logit overflows: compute the probabilities with torch.softmax (it subtracts the max)"


def grad_atol(bandit: dict) -> float:
    """Rounding room: every component is a probability times a reward difference."""
    return scaled_atol(bandit["logits"].dtype, 2 * largest(bandit["rewards"]))


def autograd_gradient(logits: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """d/dlogits of sum(softmax(logits) * rewards), by autograd in float64."""
    theta = logits.detach().double().requires_grad_(True)
    objective = (torch.softmax(theta, dim=0) * rewards.double()).sum()
    (grad,) = torch.autograd.grad(objective, theta)
    return grad.to(logits.dtype)


@pytest.mark.points(3)
@given(bandit=bandits())
def test_matches_reference(student, bandit):
    """The gradient matches for 1 to 8 actions, float32 and float64."""
    assert_close(student.softmax_policy_gradient(**bandit), ref.softmax_policy_gradient(**bandit),
                 atol=grad_atol(bandit), inputs=bandit)


@pytest.mark.points(2)
@given(bandit=bandits())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_matches_autograd(student, bandit):
    """The closed form equals autograd's gradient of sum(softmax(logits) * rewards)."""
    assert_close(student.softmax_policy_gradient(**bandit), autograd_gradient(**bandit), atol=grad_atol(bandit),
                 what="the gradient (compared with autograd's)", inputs=bandit)


@pytest.mark.points(1)
@given(bandit=bandits(), shift=st.sampled_from([-4.0, 0.5, 8.0]))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_sums_to_zero_and_ignores_a_reward_shift(student, bandit, shift):
    """The components sum to 0, and adding a constant to every reward leaves the gradient unchanged."""
    logits, rewards = bandit["logits"], bandit["rewards"]
    shifted = {"logits": logits, "rewards": rewards + shift}
    got = student.softmax_policy_gradient(**shifted)
    assert_close(got, ref.softmax_policy_gradient(**bandit), atol=grad_atol(shifted),
                 what="the gradient after adding a constant to every reward", inputs=shifted)
    total = got.double().sum()
    assert_close(total, torch.zeros((), dtype=torch.float64), atol=MAX_ACTIONS * grad_atol(shifted),
                 what="the sum of the gradient's components", inputs=shifted)


@pytest.mark.points(1)
@given(bandit=bandits(grid=True), shift=st.sampled_from([-64.0, 3.0, 1000.0]))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_ignores_a_logit_shift(student, bandit, shift):
    """Adding a constant to every logit (the same policy) gives the same gradient."""
    # logits on a grid of eighths, so that the shifted logits are exact and the policy is unchanged
    shifted = {"logits": bandit["logits"] + shift, "rewards": bandit["rewards"]}
    got = student.softmax_policy_gradient(**shifted)
    assert_finite(got, "the gradient", shifted, OVERFLOW_HINT)
    assert_close(got, ref.softmax_policy_gradient(**bandit), atol=grad_atol(bandit),
                 what="the gradient after adding a constant to every logit", inputs=shifted)


# logits anywhere in [-1e4, 1e4] (some probabilities underflow to exactly 0), or all of them near +1e4
# (exp() overflows for every one) or near -1e4 (exp() underflows for every one)
LARGE_BANDITS = st.one_of(bandits(low=-LARGE, high=LARGE), bandits(low=-20.0, high=20.0, offset=LARGE),
                          bandits(low=-20.0, high=20.0, offset=-LARGE))


@pytest.mark.points(2)
@given(bandit=LARGE_BANDITS)
@settings(max_examples=SECONDARY_EXAMPLES)
def test_large_logits_are_stable(student, bandit):
    """Logits as large as 1e4 in absolute value give a finite, accurate gradient."""
    got = student.softmax_policy_gradient(**bandit)
    assert_finite(got, "the gradient", bandit, OVERFLOW_HINT)
    assert_close(got, ref.softmax_policy_gradient(**bandit), atol=grad_atol(bandit), inputs=bandit)


@pytest.mark.points(1)
@given(bandit=bandits(), level=st.sampled_from([0.0, -2.5, 7.0]))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_uniform_policy(student, bandit, level):
    """With equal logits (pi uniform over A actions) the gradient is (r - mean(r)) / A."""
    rewards = bandit["rewards"]
    uniform = {"logits": torch.full_like(bandit["logits"], level), "rewards": rewards}
    r = rewards.double()
    expected = ((r - r.mean()) / r.shape[0]).to(rewards.dtype)
    assert_close(student.softmax_policy_gradient(**uniform), expected, atol=grad_atol(uniform),
                 what="the gradient of a uniform policy", inputs=uniform)


@pytest.mark.points(1)
@given(bandit=bandits())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_does_not_modify_inputs(student, bandit):
    """softmax_policy_gradient leaves its input tensors unchanged (and returns the right gradient)."""
    result = student.call("softmax_policy_gradient", **bandit)
    assert not result.mutated, (
        f"softmax_policy_gradient modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.softmax_policy_gradient(**bandit), atol=grad_atol(bandit), inputs=bandit)
