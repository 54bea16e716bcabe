"""Hidden tests for ``reward_to_go``: G_t = sum_{k >= t} gamma^(k - t) r_k over the valid steps of each row."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_06.strategies import (
    SECONDARY_EXAMPLES,
    discounted_atol,
    gammas,
    largest,
    other_padding,
    reward_batches,
)
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("reward_to_go")


def rtg_atol(batch: dict) -> float:
    """Rounding room: a reward-to-go adds up to T rewards."""
    rewards = batch["rewards"]
    dtype = rewards.dtype if rewards.is_floating_point() else torch.float32
    return discounted_atol(dtype, rewards.shape[1] * largest(rewards, batch["mask"]))


def suffix_sums(rewards: torch.Tensor, mask: torch.Tensor, gamma: float) -> torch.Tensor:
    """sum_{k >= t, valid} gamma^(k - t) r_k at valid t, 0 elsewhere (float64, written as a double sum)."""
    r, m = rewards.double(), mask.double()
    out = torch.zeros_like(r)
    for t in range(r.shape[1]):
        for k in range(t, r.shape[1]):
            out[:, t] += gamma ** (k - t) * r[:, k] * m[:, k]
    return out * m


@pytest.mark.points(3)
@given(batch=reward_batches(), gamma=gammas())
def test_matches_reference(student, batch, gamma):
    """Rewards-to-go match on padded batches with empty rows (float32/float64, bool/float masks, several gammas)."""
    kwargs = {**batch, "gamma": gamma}
    assert_close(student.reward_to_go(**kwargs), ref.reward_to_go(**kwargs), atol=rtg_atol(batch), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=reward_batches(min_valid=1))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_gamma_zero_is_the_reward(student, batch):
    """With gamma = 0 the reward-to-go is the reward of the step itself (0 at padded positions)."""
    kwargs = {**batch, "gamma": 0.0}
    expected = (batch["rewards"].double() * batch["mask"].double()).to(batch["rewards"].dtype)
    assert_close(student.reward_to_go(**kwargs), expected, what="the reward-to-go with gamma = 0", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=reward_batches(min_valid=1))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_gamma_one_sums_the_remaining_rewards(student, batch):
    """With gamma = 1 the reward-to-go is the plain sum of the rewards from step t to the end of the row."""
    kwargs = {**batch, "gamma": 1.0}
    expected = suffix_sums(batch["rewards"], batch["mask"], 1.0).to(batch["rewards"].dtype)
    assert_close(student.reward_to_go(**kwargs), expected, atol=rtg_atol(batch),
                 what="the reward-to-go with gamma = 1", inputs=kwargs)


@pytest.mark.points(2)
@given(batch=reward_batches(min_valid=1), gamma=st.sampled_from([0.5, 0.9, 0.99]))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_satisfies_the_backward_recursion(student, batch, gamma):
    """G_t - gamma * G_{t+1} equals r_t at every valid step (G_{t+1} = 0 after the last one), and G = 0 on padding."""
    kwargs = {**batch, "gamma": gamma}
    got = student.reward_to_go(**kwargs)
    rewards, mask = batch["rewards"], batch["mask"]
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(rewards.shape), (
        f"expected a tensor of shape {tuple(rewards.shape)}, got {got!r}")
    g, m = got.double(), mask.double()
    following = torch.cat([g[:, 1:] * m[:, 1:], torch.zeros_like(g[:, :1])], dim=1)
    # on padding the "recovered reward" is G itself, which must be 0
    recovered = torch.where(mask.bool(), g - gamma * following, g)
    expected = rewards.double() * m
    assert_close(recovered, expected, atol=rtg_atol(batch),
                 what="G_t - gamma * G_{t+1} (the reward each step must get back)", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=reward_batches(), gamma=gammas(), data=st.data())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_padding_values_do_not_matter(student, batch, gamma, data):
    """Other reward values at padded positions give the same (right) rewards-to-go: padded rewards never count."""
    other = {**batch, "rewards": other_padding(data, batch["rewards"], batch["mask"]), "gamma": gamma}
    assert_close(student.reward_to_go(**other), ref.reward_to_go(**batch, gamma=gamma), atol=rtg_atol(batch),
                 what="the reward-to-go with other padding values", inputs=other)


@pytest.mark.points(1)
@given(batch=reward_batches(mask_dtype=torch.bool), gamma=gammas())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_integer_rewards_give_float32(student, batch, gamma):
    """Integer rewards (e.g. 0/1 success) give a float32 reward-to-go."""
    kwargs = {"rewards": batch["rewards"].double().round().clamp(-5, 5).to(torch.int64), "mask": batch["mask"],
              "gamma": gamma}
    assert_close(student.reward_to_go(**kwargs), ref.reward_to_go(**kwargs), atol=rtg_atol(kwargs), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=reward_batches(dtype=torch.float32, mask_dtype=torch.float64, min_valid=1), gamma=gammas())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_result_dtype_follows_rewards_not_mask(student, batch, gamma):
    """float32 rewards with a float64 mask still give a float32 result (the mask must not promote it)."""
    kwargs = {**batch, "gamma": gamma}
    assert_close(student.reward_to_go(**kwargs), ref.reward_to_go(**kwargs), atol=rtg_atol(batch), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=reward_batches(min_valid=1), gamma=gammas())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_does_not_modify_inputs(student, batch, gamma):
    """reward_to_go leaves its input tensors unchanged (and returns the right result)."""
    result = student.call("reward_to_go", **batch, gamma=gamma)
    assert not result.mutated, f"reward_to_go modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.reward_to_go(**batch, gamma=gamma), atol=rtg_atol(batch),
                 inputs={**batch, "gamma": gamma})
