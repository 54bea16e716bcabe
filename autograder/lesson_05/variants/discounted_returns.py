"""Known mistakes in ``discounted_returns`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _float(rewards):
    return rewards if rewards.is_floating_point() else rewards.to(torch.float32)


def _not_done(rewards, dones):
    return torch.ones_like(rewards) if dones is None else 1.0 - dones.to(rewards.dtype)


@misconception("discounted_returns", "ignores the done flags: returns leak across episode boundaries")
def ignores_dones(rewards, gamma, dones=None):
    rewards = _float(rewards)
    out = torch.zeros_like(rewards)
    G = torch.zeros((), dtype=rewards.dtype)
    for t in reversed(range(rewards.shape[0])):
        G = rewards[t] + gamma * G
        out[t] = G
    return out


@misconception("discounted_returns", "reads done_t as 'a new episode starts at t': cuts the return one step early")
def done_marks_episode_start(rewards, gamma, dones=None):
    rewards = _float(rewards)
    not_done = _not_done(rewards, dones)
    out = torch.zeros_like(rewards)
    G = torch.zeros((), dtype=rewards.dtype)
    for t in reversed(range(rewards.shape[0])):
        cut = not_done[t + 1] if t + 1 < rewards.shape[0] else 1.0
        G = rewards[t] + gamma * cut * G
        out[t] = G
    return out


@misconception("discounted_returns", "discounts by gamma^k from the start of the trajectory, not from step t")
def discounts_from_trajectory_start(rewards, gamma, dones=None):
    rewards = _float(rewards)
    not_done = _not_done(rewards, dones)
    out = torch.zeros_like(rewards)
    G = torch.zeros((), dtype=rewards.dtype)
    for t in reversed(range(rewards.shape[0])):
        G = gamma ** t * rewards[t] + not_done[t] * G
        out[t] = G
    return out


@misconception("discounted_returns", "closed form sum_k gamma^k r_k / gamma^t per episode: 0/0 = NaN when gamma = 0")
def divides_by_gamma_power(rewards, gamma, dones=None):
    rewards = _float(rewards)
    not_done = _not_done(rewards, dones)
    T = rewards.shape[0]
    out = torch.zeros_like(rewards)
    start = 0
    for end in range(T):  # one episode is rewards[start:end + 1]
        if end == T - 1 or not_done[end] == 0:
            seg = rewards[start:end + 1]
            powers = gamma ** torch.arange(seg.shape[0], dtype=rewards.dtype)
            tail = torch.flip(torch.cumsum(torch.flip(powers * seg, [0]), 0), [0])
            out[start:end + 1] = tail / powers
            start = end + 1
    return out


@misconception("discounted_returns", "accumulates the returns in place in the rewards tensor")
def accumulates_in_place(rewards, gamma, dones=None):
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.float32)
    not_done = _not_done(rewards, dones)
    for t in reversed(range(rewards.shape[0] - 1)):
        rewards[t] += gamma * not_done[t] * rewards[t + 1]
    return rewards


@misconception("discounted_returns", "collects the returns in a list, then torch.tensor(list): float64 becomes float32")
def python_list_loses_dtype(rewards, gamma, dones=None):
    flags = [0.0] * rewards.shape[0] if dones is None else [float(d) for d in dones.tolist()]
    G, out = 0.0, []
    for r, d in zip(reversed(rewards.tolist()), reversed(flags)):
        G = r + gamma * (1.0 - d) * G
        out.append(G)
    return torch.tensor(out[::-1])


@rewrite("discounted_returns", "T x T discount matrix M[t, k] = gamma^(k-t) prod (1 - done), built by loops; M @ r")
def discount_matrix(rewards, gamma, dones=None):
    rewards = _float(rewards)
    T = rewards.shape[0]
    alive = [1.0] * T if dones is None else [1.0 - float(d) for d in dones.tolist()]
    M = torch.zeros(T, T, dtype=torch.float64)
    for t in range(T):
        weight = 1.0
        for k in range(t, T):
            M[t, k] = weight
            weight *= gamma * alive[k]
    return (M @ rewards.double()).to(rewards.dtype)


@rewrite("discounted_returns", "Python floats, a forward list of episode segments, then torch.tensor(dtype=...)")
def python_segments(rewards, gamma, dones=None):
    dtype = rewards.dtype if rewards.is_floating_point() else torch.float32
    values = [float(r) for r in rewards.tolist()]
    ends = [False] * len(values) if dones is None else [bool(d) for d in dones.tolist()]
    out = [0.0] * len(values)
    segment = []
    for t, end in enumerate(ends):
        segment.append(t)
        if end or t == len(values) - 1:
            running = 0.0
            for i in reversed(segment):
                running = values[i] + gamma * running
                out[i] = running
            segment = []
    return torch.tensor(out, dtype=dtype)
