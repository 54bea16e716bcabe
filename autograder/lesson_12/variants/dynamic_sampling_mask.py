"""Known mistakes in ``dynamic_sampling_mask`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("dynamic_sampling_mask", "keeps a group if any r - group mean != 0: rounding (seven float32 0.1s)")
def centred_rewards_nonzero(rewards, group_size):
    groups = rewards.reshape(-1, group_size).to(torch.float64 if rewards.dtype == torch.float64 else torch.float32)
    centred = groups - groups.mean(dim=1, keepdim=True)                  # the GRPO advantage's numerator
    return (centred != 0).any(dim=1).repeat_interleave(group_size)


@misconception("dynamic_sampling_mask", "loops over the groups and keeps those with a computed std > 0 (rounding)")
def loop_std_positive(rewards, group_size):
    values = rewards.to(torch.float64 if rewards.dtype == torch.float64 else torch.float32)
    flags = []
    for start in range(0, values.shape[0], group_size):
        flags.append(bool(values[start:start + group_size].std() > 0))
    return torch.tensor(flags).repeat_interleave(group_size)


@misconception("dynamic_sampling_mask", "inverted: True (kept) for the constant groups")
def inverted(rewards, group_size):
    groups = rewards.reshape(-1, group_size)
    return (groups.amax(dim=1) == groups.amin(dim=1)).repeat_interleave(group_size)


@misconception("dynamic_sampling_mask", "returns one flag per group ([N/G]) instead of one per sample")
def per_group_flags(rewards, group_size):
    groups = rewards.reshape(-1, group_size)
    return groups.amax(dim=1) > groups.amin(dim=1)


@misconception("dynamic_sampling_mask", "groups by position modulo G (reshape(G, -1)) instead of consecutive blocks")
def strided_groups(rewards, group_size):
    groups = rewards.reshape(group_size, -1)
    keep = groups.amax(dim=0) > groups.amin(dim=0)
    return keep.repeat(group_size)


@misconception("dynamic_sampling_mask", "drops only never-solved groups: keeps a group if any reward is > 0")
def drops_only_all_zero(rewards, group_size):
    groups = rewards.reshape(-1, group_size)
    return (groups > 0).any(dim=1).repeat_interleave(group_size)


@misconception("dynamic_sampling_mask", "returns the mask as 0/1 floats instead of bool")
def float_mask(rewards, group_size):
    groups = rewards.reshape(-1, group_size)
    return (groups.amax(dim=1) > groups.amin(dim=1)).to(torch.float32).repeat_interleave(group_size)


@rewrite("dynamic_sampling_mask", "compares every member with the group's first reward")
def equal_to_first(rewards, group_size):
    groups = rewards.view(-1, group_size)
    constant = (groups == groups[:, :1]).all(dim=1, keepdim=True)          # (N/G, 1)
    return (~constant).expand(-1, group_size).reshape(-1)


@rewrite("dynamic_sampling_mask", "a Python loop over groups counting distinct values with set()")
def distinct_values(rewards, group_size):
    flags = []
    values = rewards.tolist()
    for start in range(0, len(values), group_size):
        flags.extend([len(set(values[start:start + group_size])) > 1] * group_size)
    return torch.tensor(flags, dtype=torch.bool)
