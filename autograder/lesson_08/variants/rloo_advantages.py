"""Known mistakes in ``rloo_advantages`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _as_float(rewards):
    return rewards if rewards.is_floating_point() else rewards.to(torch.float32)


@misconception("rloo_advantages", "subtracts the full group mean (r_i included), as in Dr. GRPO")
def includes_self(rewards, group_size):
    groups = _as_float(rewards).reshape(-1, group_size)
    return (groups - groups.mean(dim=1, keepdim=True)).reshape(-1)


@misconception("rloo_advantages", "divides the sum of the others by G instead of G - 1")
def divides_by_group_size(rewards, group_size):
    groups = _as_float(rewards).reshape(-1, group_size)
    others = (groups.sum(dim=1, keepdim=True) - groups) / group_size
    return (groups - others).reshape(-1)


@misconception("rloo_advantages", "also divides by the group std, as in GRPO")
def std_normalised(rewards, group_size):
    groups = _as_float(rewards).reshape(-1, group_size)
    others = (groups.sum(dim=1, keepdim=True) - groups) / (group_size - 1)
    return ((groups - others) / (groups.std(dim=1, keepdim=True) + 1e-6)).reshape(-1)


@misconception("rloo_advantages", "leaves r_i out of the whole batch instead of its group")
def leave_one_out_of_batch(rewards, group_size):
    r = _as_float(rewards)
    others = (r.sum() - r) / (r.numel() - 1)
    return r - others


@misconception("rloo_advantages", "always casts the rewards to float32 (float64 rewards lose their dtype)")
def always_float32(rewards, group_size):
    groups = rewards.float().reshape(-1, group_size)
    others = (groups.sum(dim=1, keepdim=True) - groups) / (group_size - 1)
    return (groups - others).reshape(-1)


@misconception("rloo_advantages", "turns the reshaped view into the advantages in place: the caller's rewards change")
def in_place_view(rewards, group_size):
    groups = _as_float(rewards).view(-1, group_size)
    total = groups.sum(dim=1, keepdim=True)
    groups.mul_(group_size / (group_size - 1)).sub_(total / (group_size - 1))
    return groups.reshape(-1).clone()


@rewrite("rloo_advantages", "closed form G/(G-1) * (r - group mean)")
def rescaled_centring(rewards, group_size):
    r = rewards.to(torch.float32) if not rewards.is_floating_point() else rewards
    grouped = r.unflatten(0, (-1, group_size))
    return (grouped - grouped.mean(dim=-1, keepdim=True)).flatten() * (group_size / (group_size - 1))


@rewrite("rloo_advantages", "loops over samples, averaging the others with a boolean mask")
def sample_loops(rewards, group_size):
    r = rewards if rewards.is_floating_point() else rewards.to(torch.float32)
    out = torch.empty_like(r)
    for i in range(r.shape[0]):
        start = i - i % group_size
        group = r[start:start + group_size]
        keep = torch.ones(group_size, dtype=torch.bool)
        keep[i - start] = False
        out[i] = r[i] - group[keep].mean()
    return out
