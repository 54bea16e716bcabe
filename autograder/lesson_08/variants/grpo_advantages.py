"""Known mistakes in ``grpo_advantages`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _as_float(rewards):
    return rewards if rewards.is_floating_point() else rewards.to(torch.float32)


@misconception("grpo_advantages", "uses the population std (unbiased=False) instead of the Bessel-corrected one")
def population_std(rewards, group_size, eps=1e-6, scale="group"):
    rewards = _as_float(rewards)
    groups = rewards.reshape(-1, group_size)
    centered = groups - groups.mean(dim=1, keepdim=True)
    if scale == "group":
        centered = centered / (groups.std(dim=1, unbiased=False, keepdim=True) + eps)
    elif scale == "batch":
        centered = centered / (rewards.std(unbiased=False) + eps)
    return centered.reshape(-1)


@misconception("grpo_advantages", 'scale="batch" divides by the std of the centred advantages, not of the raw rewards')
def batch_std_of_centred(rewards, group_size, eps=1e-6, scale="group"):
    rewards = _as_float(rewards)
    groups = rewards.reshape(-1, group_size)
    centered = groups - groups.mean(dim=1, keepdim=True)
    if scale == "group":
        centered = centered / (groups.std(dim=1, keepdim=True) + eps)
    elif scale == "batch":
        centered = centered / (centered.std() + eps)
    return centered.reshape(-1)


@misconception("grpo_advantages", "groups by position modulo G (reshape(G, -1)) instead of consecutive blocks")
def strided_groups(rewards, group_size, eps=1e-6, scale="group"):
    rewards = _as_float(rewards)
    groups = rewards.reshape(group_size, -1)
    centered = groups - groups.mean(dim=0, keepdim=True)
    if scale == "group":
        centered = centered / (groups.std(dim=0, keepdim=True) + eps)
    elif scale == "batch":
        centered = centered / (rewards.std() + eps)
    return centered.reshape(-1)


@misconception("grpo_advantages", "centres with the batch mean instead of each group's mean")
def batch_mean_centring(rewards, group_size, eps=1e-6, scale="group"):
    rewards = _as_float(rewards)
    groups = rewards.reshape(-1, group_size)
    centered = groups - rewards.mean()
    if scale == "group":
        centered = centered / (groups.std(dim=1, keepdim=True) + eps)
    elif scale == "batch":
        centered = centered / (rewards.std() + eps)
    return centered.reshape(-1)


@misconception("grpo_advantages", "divides by the std without eps: a constant group gives 0/0 = NaN")
def ignores_eps(rewards, group_size, eps=1e-6, scale="group"):
    rewards = _as_float(rewards)
    groups = rewards.reshape(-1, group_size)
    centered = groups - groups.mean(dim=1, keepdim=True)
    if scale == "group":
        centered = centered / groups.std(dim=1, keepdim=True)
    elif scale == "batch":
        centered = centered / rewards.std()
    return centered.reshape(-1)


@misconception("grpo_advantages", "always casts the rewards to float32 (float64 rewards lose their dtype)")
def always_float32(rewards, group_size, eps=1e-6, scale="group"):
    groups = rewards.float().reshape(-1, group_size)
    centered = groups - groups.mean(dim=1, keepdim=True)
    if scale == "group":
        centered = centered / (groups.std(dim=1, keepdim=True) + eps)
    elif scale == "batch":
        centered = centered / (rewards.float().std() + eps)
    return centered.reshape(-1)


@misconception("grpo_advantages", "centres the reshaped view in place (groups -= mean): the caller's rewards change")
def centres_view_in_place(rewards, group_size, eps=1e-6, scale="group"):
    rewards = _as_float(rewards)
    groups = rewards.view(-1, group_size)
    std = groups.std(dim=1, keepdim=True) if scale == "group" else rewards.std()
    groups -= groups.mean(dim=1, keepdim=True)
    if scale in ("group", "batch"):
        return (groups / (std + eps)).reshape(-1)
    return groups.reshape(-1).clone()


@rewrite("grpo_advantages", "loops over the groups with explicit sums for the mean and the Bessel-corrected std")
def group_loops(rewards, group_size, eps=1e-6, scale="group"):
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.float32)
    n = rewards.shape[0]

    def bessel_std(x):
        mean = x.sum() / x.numel()
        return torch.sqrt(((x - mean) ** 2).sum() / (x.numel() - 1))

    batch_std = bessel_std(rewards)
    pieces = []
    for start in range(0, n, group_size):
        r = rewards[start:start + group_size]
        a = r - r.sum() / group_size
        if scale == "group":
            a = a / (bessel_std(r) + eps)
        elif scale == "batch":
            a = a / (batch_std + eps)
        pieces.append(a)
    return torch.cat(pieces)


@rewrite("grpo_advantages", "uses torch.var_mean with correction=1 and a lookup table of divisors")
def var_mean_table(rewards, group_size, eps=1e-6, scale="group"):
    r = rewards.to(torch.float32) if not torch.is_floating_point(rewards) else rewards
    grouped = r.unflatten(0, (-1, group_size))
    var, mean = torch.var_mean(grouped, dim=-1, correction=1, keepdim=True)
    divisor = {
        "group": lambda: var.sqrt() + eps,
        "batch": lambda: torch.var(r, correction=1).sqrt() + eps,
        "none": lambda: torch.ones((), dtype=r.dtype),
    }[scale]()
    return ((grouped - mean) / divisor).flatten()
