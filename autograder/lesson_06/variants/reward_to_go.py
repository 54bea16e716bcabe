"""Known mistakes in ``reward_to_go`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _float(rewards):
    return rewards if rewards.is_floating_point() else rewards.to(torch.float32)


def _backward(r, gamma):
    running, out = torch.zeros_like(r[:, 0]), []
    for t in reversed(range(r.shape[1])):
        running = r[:, t] + gamma * running
        out.append(running)
    return torch.stack(out[::-1], dim=1)


@misconception("reward_to_go",
               "accumulates forward from the start of the episode (G_t = sum_{k <= t}) instead of backward")
def forward_accumulation(rewards, mask, gamma):
    rewards = _float(rewards)
    m = mask.to(rewards.dtype)
    r = rewards * m
    running, out = torch.zeros_like(r[:, 0]), []
    for t in range(r.shape[1]):
        running = r[:, t] + gamma * running
        out.append(running)
    return torch.stack(out, dim=1) * m


@misconception("reward_to_go",
               "discounts from the start of the trajectory (gamma^k r_k) instead of from step t (gamma^(k-t))")
def discount_from_start(rewards, mask, gamma):
    rewards = _float(rewards)
    m = mask.to(rewards.dtype)
    steps = torch.arange(rewards.shape[1], dtype=rewards.dtype)
    weighted = rewards * m * gamma ** steps
    # suffix sums of gamma^k r_k
    return torch.flip(torch.cumsum(torch.flip(weighted, [1]), 1), [1]) * m


@misconception("reward_to_go", "forgets the mask inside the sum: padded rewards flow back into the last valid steps")
def padded_rewards_leak(rewards, mask, gamma):
    rewards = _float(rewards)
    m = mask.to(rewards.dtype)
    return _backward(rewards, gamma) * m


@misconception("reward_to_go",
               "vectorises as suffix sums of gamma^k r_k divided by gamma^t: 0/0 = NaN when gamma = 0")
def divides_by_discount(rewards, mask, gamma):
    rewards = _float(rewards)
    m = mask.to(rewards.dtype)
    discounts = gamma ** torch.arange(rewards.shape[1], dtype=rewards.dtype)   # gamma^t (0**0 = 1)
    weighted = rewards * m * discounts
    suffix = torch.flip(torch.cumsum(torch.flip(weighted, [1]), 1), [1])
    return suffix / discounts * m


@misconception("reward_to_go", "off by one: starts the sum at k = t + 1, leaving out the reward of step t itself")
def excludes_current_reward(rewards, mask, gamma):
    rewards = _float(rewards)
    m = mask.to(rewards.dtype)
    g = _backward(rewards * m, gamma)
    return (g - rewards * m) * m


@misconception("reward_to_go", "uses the whole trajectory's discounted return R(tau) at every step (no causality)")
def whole_return_everywhere(rewards, mask, gamma):
    rewards = _float(rewards)
    m = mask.to(rewards.dtype)
    total = _backward(rewards * m, gamma)[:, :1]                          # G_0 of each row
    return total * m


@misconception("reward_to_go", "multiplies by a float64 mask without casting it: float32 rewards give a float64 result")
def mask_promotes_dtype(rewards, mask, gamma):
    rewards = _float(rewards)
    m = mask if mask.is_floating_point() else mask.to(rewards.dtype)
    return _backward(rewards * m, gamma) * m


@misconception("reward_to_go", "zeroes the padded rewards in place (rewards *= mask), changing the caller's tensor")
def masks_rewards_in_place(rewards, mask, gamma):
    rewards = _float(rewards)
    rewards *= mask.to(rewards.dtype)
    return _backward(rewards, gamma) * mask.to(rewards.dtype)


@rewrite("reward_to_go", "closed form: a triangular matrix of discounts gamma^(k-t), one matrix product")
def discount_matrix(rewards, mask, gamma):
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.float32)
    m = mask.to(rewards.dtype)
    steps = rewards.shape[1]
    k = torch.arange(steps)[:, None]
    t = torch.arange(steps)[None, :]
    exponent = (k - t).clamp(min=0).to(rewards.dtype)
    # D[k, t] = gamma^(k - t) for k >= t, else 0 (0**0 = 1 keeps gamma = 0 right)
    discounts = torch.where(k >= t, torch.full_like(exponent, gamma) ** exponent, torch.zeros_like(exponent))
    return ((rewards * m) @ discounts) * m


@rewrite("reward_to_go", "Python loop over each row's valid prefix with plain floats, then one tensor")
def python_loops(rewards, mask, gamma):
    dtype = rewards.dtype if rewards.is_floating_point() else torch.float32
    lengths = [int(n) for n in mask.bool().sum(dim=1)]
    rows = []
    for row, length in zip(rewards.tolist(), lengths, strict=True):
        out = [0.0] * len(row)
        following = 0.0
        for t in range(length - 1, -1, -1):
            following = row[t] + gamma * following
            out[t] = following
        rows.append(out)
    return torch.tensor(rows, dtype=torch.float64).to(dtype)


@rewrite("reward_to_go", "discount matrix built in float32 (gamma ** arange(T).float()) and cast, mask via .float()")
def float32_discounts(rewards, mask, gamma):
    if not rewards.is_floating_point():
        rewards = rewards.float()
    steps = torch.arange(rewards.shape[1])
    lag = steps[:, None] - steps[None, :]                                # k - t
    discounts = torch.where(lag >= 0, gamma ** lag.clamp(min=0).float(), torch.zeros(()))
    valid = mask.float().to(rewards.dtype)
    return (rewards * valid) @ discounts.to(rewards.dtype) * valid
