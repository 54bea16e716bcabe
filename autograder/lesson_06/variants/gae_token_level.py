"""Known mistakes in ``gae_token_level`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _recursion(deltas, gamma, lam):
    """A_t = delta_t + gamma * lam * A_{t+1} along dim 1, A_T = 0."""
    running, out = torch.zeros_like(deltas[:, 0]), []
    for t in reversed(range(deltas.shape[1])):
        running = deltas[:, t] + gamma * lam * running
        out.append(running)
    return torch.stack(out[::-1], dim=1)


def _shift(values):
    """values[:, t + 1], 0 after the last column."""
    return torch.cat([values[:, 1:], torch.zeros_like(values[:, :1])], dim=1)


@misconception("gae_token_level", "bootstraps the last valid token from the value at the next (padded) position")
def bootstraps_from_padding(rewards, values, mask, gamma, lam):
    m = mask.to(values.dtype)
    deltas = (rewards + gamma * _shift(values) - values) * m
    adv = _recursion(deltas, gamma, lam)
    return adv, (adv + values) * m


@misconception("gae_token_level", "does not zero the returns at padded positions (returns = A + V there is V's junk)")
def returns_not_masked(rewards, values, mask, gamma, lam):
    m = mask.to(values.dtype)
    deltas = (rewards + gamma * _shift(values * m) - values) * m
    adv = _recursion(deltas, gamma, lam)
    return adv, adv + values


@misconception("gae_token_level",
               "runs the recursion over the padding too and only masks the outputs: padded TD errors leak back")
def masks_only_the_outputs(rewards, values, mask, gamma, lam):
    m = mask.to(values.dtype)
    deltas = rewards + gamma * _shift(values * m) - values
    adv = _recursion(deltas, gamma, lam) * m
    return adv, (adv + values) * m


@misconception("gae_token_level", "decays the sum by lambda alone: A_t = delta_t + lam * A_{t+1} (gamma forgotten)")
def lambda_without_gamma(rewards, values, mask, gamma, lam):
    m = mask.to(values.dtype)
    deltas = (rewards + gamma * _shift(values * m) - values) * m
    adv = _recursion(deltas, 1.0, lam)
    return adv, (adv + values) * m


@misconception("gae_token_level",
               "treats the last valid token as non-terminal: bootstraps it from its own value V_{L-1}")
def repeats_last_value(rewards, values, mask, gamma, lam):
    m = mask.to(values.dtype)
    following = _shift(values * m)
    # the position after the last valid token gets V_{L-1} instead of 0
    is_last = m * (1.0 - _shift(m))
    deltas = (rewards + gamma * (following + is_last * values) - values) * m
    adv = _recursion(deltas, gamma, lam)
    return adv, (adv + values) * m


@misconception("gae_token_level", "multiplies by a float64 mask without casting it: float32 results come back float64")
def mask_promotes_dtype(rewards, values, mask, gamma, lam):
    m = mask if mask.is_floating_point() else mask.to(values.dtype)
    deltas = (rewards + gamma * _shift(values * m) - values) * m
    adv = _recursion(deltas, gamma, lam)
    return adv, (adv + values) * m


@misconception("gae_token_level", "returns the discounted rewards-to-go as 'returns' instead of A + V")
def monte_carlo_returns(rewards, values, mask, gamma, lam):
    m = mask.to(values.dtype)
    deltas = (rewards + gamma * _shift(values * m) - values) * m
    adv = _recursion(deltas, gamma, lam)
    return adv, _recursion(rewards * m, gamma, 1.0)


@rewrite("gae_token_level", "one 1-D GAE per row on the valid prefix, in plain Python floats, pasted into zeros")
def row_by_row(rewards, values, mask, gamma, lam):
    advantages = torch.zeros_like(values)
    returns = torch.zeros_like(values)
    for b, length in enumerate(mask.bool().sum(dim=1).tolist()):
        r, v = rewards[b, :length].tolist(), values[b, :length].tolist()
        adv_row, following_adv = [0.0] * length, 0.0
        for t in reversed(range(length)):
            next_value = v[t + 1] if t + 1 < length else 0.0             # the response ends: no bootstrap
            following_adv = r[t] + gamma * next_value - v[t] + gamma * lam * following_adv
            adv_row[t] = following_adv
        adv_row = torch.tensor(adv_row, dtype=torch.float64).to(values.dtype)
        advantages[b, :length] = adv_row
        returns[b, :length] = adv_row + values[b, :length]
    return advantages, returns


@rewrite("gae_token_level",
         "closed form: TD errors times a triangular matrix of (gamma lam)^(k-t), torch.where for padding")
def discount_matrix(rewards, values, mask, gamma, lam):
    keep = mask.bool()
    zero = torch.zeros((), dtype=values.dtype)
    v = torch.where(keep, values, zero)
    next_v = torch.nn.functional.pad(v[:, 1:], (0, 1))                   # 0 after the last valid token
    deltas = torch.where(keep, rewards + gamma * next_v - v, zero)
    steps = values.shape[1]
    k = torch.arange(steps)[:, None]
    t = torch.arange(steps)[None, :]
    exponent = (k - t).clamp(min=0).to(values.dtype)
    weights = torch.where(k >= t, torch.full_like(exponent, gamma * lam) ** exponent, torch.zeros_like(exponent))
    advantages = deltas @ weights                                        # A_t = sum_k (gamma lam)^(k-t) delta_k
    return advantages, torch.where(keep, advantages + v, zero)


@rewrite("gae_token_level", "environment-style done flags derived from the mask (float32), then a vectorised recursion")
def done_flags_from_mask(rewards, values, mask, gamma, lam):
    m = mask.float()
    following_valid = torch.cat([m[:, 1:], torch.zeros_like(m[:, :1])], dim=1)
    done = m - following_valid                                           # 1 on each row's last valid token
    carry = (1.0 - done) * following_valid                               # 0 at the end and on padding
    next_values = torch.cat([values[:, 1:], torch.zeros_like(values[:, :1])], dim=1)
    deltas = (rewards + gamma * carry * next_values - values) * m
    advantages = torch.zeros_like(values)
    following = torch.zeros_like(values[:, 0])
    for t in reversed(range(values.shape[1])):
        following = deltas[:, t] + gamma * lam * carry[:, t] * following
        advantages[:, t] = following
    return advantages, (advantages + values) * m
