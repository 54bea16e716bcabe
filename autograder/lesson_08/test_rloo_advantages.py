"""Hidden tests for ``rloo_advantages``: each reward minus the mean of the other rewards of its group."""

import pytest
import torch
from hypothesis import given

from autograder.lesson_08.strategies import (assert_signs_follow_centred_rewards, largest, mixed_groups,
                                             reward_groups, scaled_atol)
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("rloo_advantages")



def adv_atol(rewards: torch.Tensor) -> float:
    dtype = rewards.dtype if rewards.is_floating_point() else torch.float32
    return scaled_atol(dtype, 2 * largest(rewards.double()))


@pytest.mark.points(3)
@given(groups=reward_groups())
def test_matches_reference(student, groups):
    """Advantages match for several group sizes and numbers of groups, float32 and float64."""
    rewards, group_size = groups
    assert_close(student.rloo_advantages(rewards, group_size), ref.rloo_advantages(rewards, group_size),
                 atol=adv_atol(rewards), inputs={"rewards": rewards, "group_size": group_size})


@pytest.mark.points(1)
@given(groups=reward_groups())
def test_zero_sum_per_group(student, groups):
    """Within every group the leave-one-out advantages sum to 0 and each has the sign of r - group mean."""
    rewards, group_size = groups
    got = student.rloo_advantages(rewards, group_size)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(rewards.shape), (
        f"expected a tensor of shape {tuple(rewards.shape)}, got {got!r}")
    sums = got.double().reshape(-1, group_size).sum(dim=1)
    assert_close(sums, torch.zeros_like(sums), what="the per-group sums of the advantages",
                 atol=adv_atol(rewards) * group_size, inputs={"rewards": rewards, "group_size": group_size})
    assert_signs_follow_centred_rewards(got, rewards, group_size, {"rewards": rewards, "group_size": group_size})


@pytest.mark.points(1)
@given(groups=reward_groups())
def test_is_rescaled_centring(student, groups):
    """The advantages equal G/(G-1) * (r - group mean)."""
    rewards, group_size = groups
    grouped = rewards.double().reshape(-1, group_size)
    expected = (group_size / (group_size - 1) * (grouped - grouped.mean(dim=1, keepdim=True))).reshape(-1)
    assert_close(student.rloo_advantages(rewards, group_size), expected.to(rewards.dtype),
                 what="the advantages compared with G/(G-1) * (r - mean)", atol=adv_atol(rewards),
                 inputs={"rewards": rewards, "group_size": group_size})


@pytest.mark.points(1)
@given(groups=mixed_groups())
def test_constant_groups_give_zero(student, groups):
    """Groups of identical rewards get advantage 0, next to a varied group that gets its leave-one-out advantages."""
    rewards, group_size = groups
    assert_close(student.rloo_advantages(rewards, group_size), ref.rloo_advantages(rewards, group_size),
                 what="the advantages of constant groups and one varied group",
                 inputs={"rewards": rewards, "group_size": group_size})


@pytest.mark.points(1)
@given(groups=reward_groups(group_sizes=(2,)))
def test_group_of_two_is_the_difference(student, groups):
    """With G = 2 each sample's baseline is the other reward: A = (r1 - r2, r2 - r1)."""
    rewards, _ = groups
    pairs = rewards.reshape(-1, 2)
    expected = torch.stack([pairs[:, 0] - pairs[:, 1], pairs[:, 1] - pairs[:, 0]], dim=1).reshape(-1)
    assert_close(student.rloo_advantages(rewards, 2), expected, what="the advantages of groups of two",
                 atol=adv_atol(rewards), inputs={"rewards": rewards, "group_size": 2})


@pytest.mark.points(1)
@given(groups=reward_groups())
def test_integer_rewards_give_float32(student, groups):
    """Integer rewards (e.g. 0/1 correctness) give float32 advantages."""
    rewards, group_size = groups
    rewards = (rewards.double() * 4).round().to(torch.int64)
    assert_close(student.rloo_advantages(rewards, group_size), ref.rloo_advantages(rewards, group_size),
                 atol=adv_atol(rewards), inputs={"rewards": rewards, "group_size": group_size})


@pytest.mark.points(1)
@given(groups=reward_groups())
def test_does_not_modify_inputs(student, groups):
    """rloo_advantages leaves the rewards tensor unchanged (and returns the right advantages)."""
    rewards, group_size = groups
    result = student.call("rloo_advantages", rewards, group_size)
    assert not result.mutated, f"rloo_advantages modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.rloo_advantages(rewards, group_size), atol=adv_atol(rewards),
                 inputs={"rewards": rewards, "group_size": group_size})
