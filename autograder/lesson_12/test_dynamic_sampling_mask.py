"""Hidden tests for ``dynamic_sampling_mask``: False for every member of a group whose rewards are all equal."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_12.strategies import INEXACT_REWARDS, reward_groups
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("dynamic_sampling_mask")


def expected_mask(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """One Python loop per group: kept iff the group holds two different values."""
    values = rewards.tolist()
    keep = []
    for start in range(0, len(values), group_size):
        group = values[start:start + group_size]
        keep += [len(set(group)) > 1] * group_size
    return torch.tensor(keep, dtype=torch.bool)


@pytest.mark.points(3)
@given(groups=reward_groups())
def test_matches_reference(student, groups):
    """The bool mask matches for constant (exact and inexact), 0/1 and varied groups, float32 and float64."""
    rewards, group_size = groups
    kwargs = {"rewards": rewards, "group_size": group_size}
    assert_close(student.dynamic_sampling_mask(**kwargs), ref.dynamic_sampling_mask(**kwargs), inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=st.sampled_from([torch.float32, torch.float64]), value=st.sampled_from(INEXACT_REWARDS),
       data=st.data())
def test_constant_groups_of_inexact_values(student, dtype, value, data):
    """Seven equal rewards of 0.1 (or 0.3, 0.7, 1/3) are a constant group, whatever their rounded std: False."""
    group_size = 7
    varied = [k / 4 for k in data.draw(st.lists(st.integers(-8, 8), min_size=group_size, max_size=group_size)
                                        .filter(lambda ks: len(set(ks)) > 1))]
    groups = [[value] * group_size, varied]
    if data.draw(st.booleans()):
        groups.reverse()
    rewards = torch.tensor([r for g in groups for r in g], dtype=dtype)
    kwargs = {"rewards": rewards, "group_size": group_size}
    assert_close(student.dynamic_sampling_mask(**kwargs), expected_mask(rewards, group_size),
                 what="the mask of a constant group of inexact values next to a varied group", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=st.sampled_from([torch.int64, torch.float32, torch.float64]), group_size=st.sampled_from([2, 4, 8]),
       data=st.data())
def test_always_and_never_solved_prompts_are_dropped(student, dtype, group_size, data):
    """With 0/1 correctness rewards, all-correct and all-wrong groups are dropped, partly-correct ones kept."""
    patterns = [[1] * group_size, [0] * group_size]
    n_mixed = data.draw(st.integers(1, 2))
    for _ in range(n_mixed):
        patterns.append(data.draw(st.lists(st.integers(0, 1), min_size=group_size, max_size=group_size)
                                  .filter(lambda bits: 0 < sum(bits) < len(bits))))
    patterns = data.draw(st.permutations(patterns))
    rewards = torch.tensor([b for p in patterns for b in p]).to(dtype)
    kwargs = {"rewards": rewards, "group_size": group_size}
    assert_close(student.dynamic_sampling_mask(**kwargs), expected_mask(rewards, group_size),
                 what="the mask of all-correct, all-wrong and partly-correct groups", inputs=kwargs)


@pytest.mark.points(1)
@given(groups=reward_groups())
def test_whole_groups_are_kept_or_dropped(student, groups):
    """A bool tensor of shape [N]: each group's members share one value, True iff the group has two different rewards."""
    rewards, group_size = groups
    kwargs = {"rewards": rewards, "group_size": group_size}
    got = student.dynamic_sampling_mask(**kwargs)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(rewards.shape), (
        f"dynamic_sampling_mask should return a tensor of shape {tuple(rewards.shape)}, got {got!r}\n  inputs: {kwargs}")
    assert got.dtype == torch.bool, f"dynamic_sampling_mask should return a bool tensor, got dtype {got.dtype}"
    per_group = got.reshape(-1, group_size)
    split = (per_group != per_group[:, :1]).any(dim=1)
    assert not bool(split.any()), (f"group {int(torch.nonzero(split)[0])} is partly kept: {per_group.tolist()}"
                                   f"\n  inputs: {kwargs}")
    assert_close(got, expected_mask(rewards, group_size), what="the kept groups", inputs=kwargs)


@pytest.mark.points(1)
@given(groups=reward_groups(dtype=torch.int64, kinds=("constant", "binary", "grid")))
def test_integer_rewards(student, groups):
    """Integer rewards work too (a bool mask, the same groups dropped)."""
    rewards, group_size = groups
    kwargs = {"rewards": rewards, "group_size": group_size}
    assert_close(student.dynamic_sampling_mask(**kwargs), expected_mask(rewards, group_size), inputs=kwargs)


@pytest.mark.points(1)
@given(groups=reward_groups())
def test_does_not_modify_inputs(student, groups):
    """dynamic_sampling_mask leaves the rewards tensor unchanged (and returns the right mask)."""
    rewards, group_size = groups
    result = student.call("dynamic_sampling_mask", rewards, group_size)
    assert not result.mutated, (
        f"dynamic_sampling_mask modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.dynamic_sampling_mask(rewards, group_size),
                 inputs={"rewards": rewards, "group_size": group_size})
