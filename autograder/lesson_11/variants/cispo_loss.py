"""Known mistakes in ``cispo_loss`` and independent correct rewrites."""

import math

import torch

from rlgrade.testing import misconception, rewrite


@misconception("cispo_loss", "does not detach the clipped weight: the gradient also flows through r (same value)")
def weight_not_detached(logp, logp_old, advantages, mask, eps_high=0.28):
    weight = torch.clamp(torch.exp(logp - logp_old), max=1.0 + eps_high)
    m = mask.to(logp.dtype)
    return (-weight * advantages[:, None] * logp * m).sum() / m.sum()


@misconception("cispo_loss", "uses PPO's clipped surrogate min(r A, clip(r) A) instead of sg(weight) * A * logp")
def ppo_surrogate(logp, logp_old, advantages, mask, eps_high=0.28):
    ratio = torch.exp(logp - logp_old)
    adv = advantages[:, None]
    per_token = -torch.minimum(ratio * adv, torch.clamp(ratio, 1 - eps_high, 1 + eps_high) * adv)
    m = mask.to(logp.dtype)
    return (per_token * m).sum() / m.sum()


@misconception("cispo_loss", "clips the weight on both sides: clamp(r, 1 - eps_high, 1 + eps_high)")
def two_sided_clip(logp, logp_old, advantages, mask, eps_high=0.28):
    weight = torch.clamp(torch.exp(logp - logp_old), 1.0 - eps_high, 1.0 + eps_high).detach()
    m = mask.to(logp.dtype)
    return (-weight * advantages[:, None] * logp * m).sum() / m.sum()


@misconception("cispo_loss", "aggregates with the mean of per-sequence means (GRPO) instead of the token mean")
def sequence_mean(logp, logp_old, advantages, mask, eps_high=0.28):
    weight = torch.clamp(torch.exp(logp - logp_old), max=1.0 + eps_high).detach()
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    per_seq = (-weight * advantages[:, None] * logp * m).sum(dim=1) / lengths.clamp(min=1.0)
    return per_seq[lengths > 0].mean()


@misconception("cispo_loss", "divides by B * T (every position) instead of the number of valid tokens")
def mean_over_all_positions(logp, logp_old, advantages, mask, eps_high=0.28):
    weight = torch.clamp(torch.exp(logp - logp_old), max=1.0 + eps_high).detach()
    m = mask.to(logp.dtype)
    return (-weight * advantages[:, None] * logp * m).mean()


@misconception("cispo_loss", "forms the ratio as exp(logp) / exp(logp_old): 0/0 for log-probs near -1e4")
def probability_ratio(logp, logp_old, advantages, mask, eps_high=0.28):
    weight = torch.clamp(torch.exp(logp) / torch.exp(logp_old), max=1.0 + eps_high).detach()
    m = mask.to(logp.dtype)
    return (-weight * advantages[:, None] * logp * m).sum() / m.sum()


@misconception("cispo_loss", "multiplies by a float64 mask as given: float32 log-probs give a float64 loss")
def mask_promotes_dtype(logp, logp_old, advantages, mask, eps_high=0.28):
    weight = torch.clamp(torch.exp(logp - logp_old), max=1.0 + eps_high).detach()
    m = mask if mask.is_floating_point() else mask.to(logp.dtype)
    return (-weight * advantages[:, None] * logp * m).sum() / m.sum()


@rewrite("cispo_loss", "weight computed under torch.no_grad() with torch.where, row loops over valid prefixes")
def no_grad_weight_row_loops(logp, logp_old, advantages, mask, eps_high=0.28):
    with torch.no_grad():
        ratio = (logp - logp_old).exp()
        cap = torch.full_like(ratio, 1.0 + eps_high)
        weight = torch.where(ratio > cap, cap, ratio)
    total = logp.sum() * 0.0
    count = 0
    for b in range(logp.shape[0]):
        n = int(mask[b].to(torch.int64).sum())
        total = total - (weight[b, :n] * logp[b, :n]).sum() * advantages[b]
        count += n
    return total / count if count else total * float("nan")


@rewrite("cispo_loss", "clips the log-ratio at log(1 + eps_high) before exp, explicit per-token weight matrix")
def log_space_clip(logp, logp_old, advantages, mask, eps_high=0.28):
    log_ratio = (logp - logp_old).detach().clamp(max=math.log1p(eps_high))
    valid = mask.bool()
    token_weight = valid.to(logp.dtype) / valid.sum()                 # 1 / N on valid tokens (NaN if N = 0)
    signal = torch.exp(log_ratio) * advantages.unsqueeze(-1)
    return -(torch.where(valid, signal * logp, torch.zeros_like(logp)) * token_weight).sum()
