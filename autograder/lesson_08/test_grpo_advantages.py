"""Hidden tests for ``grpo_advantages``: group-mean centring, scaled by the group std, the batch std or nothing."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_08.strategies import (EXACT_REWARDS, assert_signs_follow_centred_rewards, largest, mixed_groups,
                                             reward_groups, scaled_atol)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes

ref = reference_for(__file__)
pytestmark = pytest.mark.question("grpo_advantages")

SCALES = st.sampled_from(["group", "batch", "none"])
EPS = st.sampled_from([1e-6, 1e-4, 0.1])


def adv_atol(rewards: torch.Tensor) -> float:
    dtype = rewards.dtype if rewards.is_floating_point() else torch.float32
    return scaled_atol(dtype, largest(rewards.double()))


@pytest.mark.points(3)
@given(groups=reward_groups(), eps=EPS, scale=SCALES)
def test_matches_reference(student, groups, eps, scale):
    """Advantages match for every scale, several group sizes and eps, float32 and float64."""
    rewards, group_size = groups
    kwargs = {"rewards": rewards, "group_size": group_size, "eps": eps, "scale": scale}
    assert_close(student.grpo_advantages(**kwargs), ref.grpo_advantages(**kwargs), atol=adv_atol(rewards),
                 inputs=kwargs)


@pytest.mark.points(1)
@given(groups=reward_groups(), eps=EPS, scale=SCALES)
def test_zero_mean_per_group(student, groups, eps, scale):
    """Within every group the advantages sum to 0 and each has the sign of r - group mean, whatever the scale."""
    rewards, group_size = groups
    kwargs = {"rewards": rewards, "group_size": group_size, "eps": eps, "scale": scale}
    got = student.grpo_advantages(**kwargs)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(rewards.shape), (
        f"expected a tensor of shape {tuple(rewards.shape)}, got {got!r}")
    sums = got.double().reshape(-1, group_size).sum(dim=1)
    atol = scaled_atol(rewards.dtype, largest(got)) * group_size
    assert_close(sums, torch.zeros_like(sums), what="the per-group sums of the advantages", atol=atol, inputs=kwargs)
    assert_signs_follow_centred_rewards(got, rewards, group_size, kwargs)


@pytest.mark.points(1)
@given(groups=reward_groups(constant=False))
def test_group_scale_gives_unit_std(student, groups):
    """With scale="group" and eps = 0, every (non-constant) group has Bessel-corrected std 1."""
    rewards, group_size = groups
    kwargs = {"rewards": rewards, "group_size": group_size, "eps": 0.0, "scale": "group"}
    got = student.grpo_advantages(**kwargs)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(rewards.shape), (
        f"expected a tensor of shape {tuple(rewards.shape)}, got {got!r}")
    stds = got.double().reshape(-1, group_size).std(dim=1)
    assert_close(stds, torch.ones_like(stds), what="the per-group std of the advantages", rtol=1e-4, atol=1e-5,
                 inputs=kwargs)


@pytest.mark.points(1)
@given(groups=reward_groups())
def test_none_is_plain_centring(student, groups):
    """scale="none" (Dr. GRPO) only subtracts the group mean: advantage + group mean = reward."""
    rewards, group_size = groups
    kwargs = {"rewards": rewards, "group_size": group_size, "scale": "none"}
    got = student.grpo_advantages(**kwargs)
    means = rewards.double().reshape(-1, group_size).mean(dim=1, keepdim=True)
    expected = (rewards.double().reshape(-1, group_size) - means).reshape(-1).to(rewards.dtype)
    assert_close(got, expected, what='the advantages with scale="none"', atol=adv_atol(rewards), inputs=kwargs)


@pytest.mark.points(1)
@given(groups=mixed_groups(), scale=SCALES)
def test_constant_groups_give_zero(student, groups, scale):
    """Groups of identical rewards get advantage 0 under every scale (eps avoids 0/0), next to a varied group."""
    rewards, group_size = groups
    kwargs = {"rewards": rewards, "group_size": group_size, "scale": scale}
    got = student.grpo_advantages(**kwargs)
    expected = ref.grpo_advantages(**kwargs)
    assert_close(got, expected, what="the advantages of constant groups and one varied group", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), pairs=st.lists(st.tuples(st.sampled_from(EXACT_REWARDS), st.sampled_from(EXACT_REWARDS))
                                            .filter(lambda p: p[0] != p[1]), min_size=1, max_size=3))
def test_group_of_two_gives_plus_minus_one_over_sqrt2(student, dtype, pairs):
    """With G = 2, eps = 0 and scale="group", a pair of different rewards gets ±1/sqrt(2), however large the gap."""
    rewards = torch.tensor([r for pair in pairs for r in pair], dtype=dtype)
    kwargs = {"rewards": rewards, "group_size": 2, "eps": 0.0, "scale": "group"}
    expected = torch.tensor([math.copysign(1 / math.sqrt(2), a - b) for a, b in pairs for a, b in ((a, b), (b, a))],
                            dtype=dtype)
    assert_close(student.grpo_advantages(**kwargs), expected, what="the advantages of groups of two", inputs=kwargs)


@pytest.mark.points(1)
@given(groups=reward_groups(constant=False), eps=EPS, scale=SCALES)
def test_integer_rewards_give_float32(student, groups, eps, scale):
    """Integer rewards (e.g. 0/1 correctness) give float32 advantages."""
    rewards, group_size = groups
    rewards = (rewards.double() * 4).round().to(torch.int64)  # the quarter grid, scaled to integers
    kwargs = {"rewards": rewards, "group_size": group_size, "eps": eps, "scale": scale}
    assert_close(student.grpo_advantages(**kwargs), ref.grpo_advantages(**kwargs), atol=adv_atol(rewards),
                 inputs=kwargs)


@pytest.mark.points(1)
@given(groups=reward_groups(), scale=SCALES)
def test_does_not_modify_inputs(student, groups, scale):
    """grpo_advantages leaves the rewards tensor unchanged (and returns the right advantages)."""
    rewards, group_size = groups
    result = student.call("grpo_advantages", rewards, group_size, scale=scale)
    assert not result.mutated, f"grpo_advantages modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.grpo_advantages(rewards, group_size, scale=scale), atol=adv_atol(rewards),
                 inputs={"rewards": rewards, "group_size": group_size, "scale": scale})
