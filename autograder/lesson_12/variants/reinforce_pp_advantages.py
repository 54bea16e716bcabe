"""Known mistakes in ``reinforce_pp_advantages`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _prepare(rewards, mask):
    rewards = rewards if rewards.is_floating_point() else rewards.to(torch.float32)
    return rewards, mask.to(rewards.dtype)


def _whiten(x, m, eps):
    n = m.sum()
    mean = (x * m).sum() / n
    var = ((x - mean) ** 2 * m).sum() / (n - 1)
    return (x - mean) / torch.sqrt(var + eps) * m


@misconception("reinforce_pp_advantages", "reward-to-go of the raw rewards: junk in the padding leaks into the returns")
def unmasked_returns(rewards, mask, eps=1e-8):
    rewards, m = _prepare(rewards, mask)
    returns = rewards.flip(-1).cumsum(-1).flip(-1)
    return _whiten(returns, m, eps)


@misconception("reinforce_pp_advantages", "whitens each row separately (per-sequence statistics), not over the batch")
def per_row_whitening(rewards, mask, eps=1e-8):
    rewards, m = _prepare(rewards, mask)
    returns = (rewards * m).flip(-1).cumsum(-1).flip(-1)
    n = m.sum(dim=1, keepdim=True)
    mean = (returns * m).sum(dim=1, keepdim=True) / n.clamp(min=1)
    var = ((returns - mean) ** 2 * m).sum(dim=1, keepdim=True) / (n - 1).clamp(min=1)
    return (returns - mean) / torch.sqrt(var + eps) * m


@misconception("reinforce_pp_advantages", "population variance (divides by |V|, not |V| - 1)")
def population_variance(rewards, mask, eps=1e-8):
    rewards, m = _prepare(rewards, mask)
    returns = (rewards * m).flip(-1).cumsum(-1).flip(-1)
    n = m.sum()
    mean = (returns * m).sum() / n
    var = ((returns - mean) ** 2 * m).sum() / n
    return (returns - mean) / torch.sqrt(var + eps) * m


@misconception("reinforce_pp_advantages", "cumulative sum from the left (reward so far) instead of the reward-to-go")
def forward_cumsum(rewards, mask, eps=1e-8):
    rewards, m = _prepare(rewards, mask)
    return _whiten((rewards * m).cumsum(-1), m, eps)


@misconception("reinforce_pp_advantages", "divides by std + eps (lesson 6's normalisation) instead of sqrt(var + eps)")
def std_plus_eps(rewards, mask, eps=1e-8):
    rewards, m = _prepare(rewards, mask)
    returns = (rewards * m).flip(-1).cumsum(-1).flip(-1)
    n = m.sum()
    mean = (returns * m).sum() / n
    std = torch.sqrt(((returns - mean) ** 2 * m).sum() / (n - 1))
    return (returns - mean) / (std + eps) * m


@misconception("reinforce_pp_advantages", "mean and variance over all B * T entries, padding included")
def statistics_with_padding(rewards, mask, eps=1e-8):
    rewards, m = _prepare(rewards, mask)
    returns = (rewards * m).flip(-1).cumsum(-1).flip(-1)
    return (returns - returns.mean()) / torch.sqrt(returns.var() + eps) * m


@misconception("reinforce_pp_advantages", "forgets to zero the padded positions (they hold -mean / scale)")
def padding_not_zeroed(rewards, mask, eps=1e-8):
    rewards, m = _prepare(rewards, mask)
    returns = (rewards * m).flip(-1).cumsum(-1).flip(-1)
    n = m.sum()
    mean = (returns * m).sum() / n
    var = ((returns - mean) ** 2 * m).sum() / (n - 1)
    return (returns - mean) / torch.sqrt(var + eps)


@misconception("reinforce_pp_advantages", "multiplies by a float64 mask as given: float32 rewards give float64")
def mask_promotes_dtype(rewards, mask, eps=1e-8):
    rewards = rewards if rewards.is_floating_point() else rewards.to(torch.float32)
    m = mask if mask.is_floating_point() else mask.to(rewards.dtype)
    returns = (rewards * m).flip(-1).cumsum(-1).flip(-1)
    return _whiten(returns, m, eps)


@rewrite("reinforce_pp_advantages", "returns by a backward loop over t, statistics with torch.var_mean on the valid entries")
def loop_and_var_mean(rewards, mask, eps=1e-8):
    r = rewards.to(torch.float32) if not torch.is_floating_point(rewards) else rewards
    valid = mask.bool()
    zero = torch.zeros_like(r)
    r = torch.where(valid, r, zero)
    columns = []
    running = torch.zeros_like(r[:, 0])
    for t in range(r.shape[1] - 1, -1, -1):
        running = running + r[:, t]
        columns.append(running)
    returns = torch.stack(columns[::-1], dim=1)
    var, mean = torch.var_mean(returns[valid], correction=1)
    return torch.where(valid, (returns - mean) * torch.rsqrt(var + eps), zero)


@rewrite("reinforce_pp_advantages", "reward-to-go as a matrix product with an upper-triangular matrix, explicit counts")
def triangular_matmul(rewards, mask, eps=1e-8):
    dtype = rewards.dtype if rewards.is_floating_point() else torch.float32
    m = mask.to(dtype)
    seq = rewards.shape[-1]
    upper = torch.triu(torch.ones(seq, seq, dtype=dtype))               # upper[s, t] = 1 if s <= t
    returns = (rewards.to(dtype) * m) @ upper.T                          # G_t = sum_{s >= t} r_s
    count = float(m.sum())
    centred = (returns - (returns * m).sum() / count) * m
    variance = (centred * centred).sum() / (count - 1)
    return centred / (variance + eps).sqrt()
