"""Known mistakes in ``grpo_loss`` and independent correct rewrites.

The variants replace only ``grpo_loss``; each aggregates with a private helper so that it
does not depend on (or import) the reference's ``aggregate_token_loss``.
"""

import math

import torch

from rlgrade.testing import misconception, rewrite


def _aggregate(per_token, mask, mode, max_len=None):
    """A correct aggregate_token_loss (written for these variants)."""
    m = mask.to(per_token.dtype)
    if mode == "token_mean":
        return (per_token * m).sum() / m.sum()
    if mode == "seq_mean_token_mean":
        lengths = m.sum(dim=1)
        per_seq = (per_token * m).sum(dim=1) / lengths.clamp(min=1.0)
        return per_seq[lengths > 0].mean()
    return (per_token * m).sum() / (per_token.shape[0] * (max_len if max_len is not None else per_token.shape[1]))


def _surrogate(ratio, advantages, eps_low, eps_high):
    adv = advantages[:, None]
    return torch.minimum(ratio * adv, torch.clamp(ratio, 1 - eps_low, 1 + eps_high) * adv)


@misconception("grpo_loss", "k3 with the sign of delta flipped: delta = logp - logp_ref")
def k3_sign_flipped(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
                    mode="seq_mean_token_mean", max_len=None):
    delta = logp - logp_ref
    k3 = torch.exp(delta) - 1 - delta
    per_token = -(_surrogate(torch.exp(logp - logp_old), advantages, eps_low, eps_high) - beta * k3)
    return _aggregate(per_token, mask, mode, max_len)


@misconception("grpo_loss", "uses the k1 estimator logp - logp_ref instead of k3")
def k1_penalty(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
               mode="seq_mean_token_mean", max_len=None):
    per_token = -(_surrogate(torch.exp(logp - logp_old), advantages, eps_low, eps_high) - beta * (logp - logp_ref))
    return _aggregate(per_token, mask, mode, max_len)


@misconception("grpo_loss", "adds the KL penalty to the objective (-(surrogate + beta * k3)): rewards drifting away")
def kl_added_to_objective(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
                          mode="seq_mean_token_mean", max_len=None):
    delta = logp_ref - logp
    k3 = torch.exp(delta) - 1 - delta
    per_token = -(_surrogate(torch.exp(logp - logp_old), advantages, eps_low, eps_high) + beta * k3)
    return _aggregate(per_token, mask, mode, max_len)


@misconception("grpo_loss", "swaps eps_low and eps_high in the clip range")
def swapped_clip_range(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
                       mode="seq_mean_token_mean", max_len=None):
    delta = logp_ref - logp
    k3 = torch.exp(delta) - 1 - delta
    per_token = -(_surrogate(torch.exp(logp - logp_old), advantages, eps_high, eps_low) - beta * k3)
    return _aggregate(per_token, mask, mode, max_len)


@misconception("grpo_loss", "always averages with token_mean, ignoring mode and max_len")
def ignores_mode(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
                 mode="seq_mean_token_mean", max_len=None):
    delta = logp_ref - logp
    k3 = torch.exp(delta) - 1 - delta
    per_token = -(_surrogate(torch.exp(logp - logp_old), advantages, eps_low, eps_high) - beta * k3)
    return _aggregate(per_token, mask, "token_mean")


@misconception("grpo_loss", "forms ratios as exp(logp) / exp(logp_old), exp(logp_ref) / exp(logp): 0/0 near -1e4")
def probability_ratios(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
                       mode="seq_mean_token_mean", max_len=None):
    ratio_ref = torch.exp(logp_ref) / torch.exp(logp)
    k3 = ratio_ref - 1 - torch.log(ratio_ref)
    per_token = -(_surrogate(torch.exp(logp) / torch.exp(logp_old), advantages, eps_low, eps_high) - beta * k3)
    return _aggregate(per_token, mask, mode, max_len)


@misconception("grpo_loss", "per-row means divided by 0 on empty rows: right value, NaN gradients")
def nan_gradient_on_empty_rows(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
                               mode="seq_mean_token_mean", max_len=None):
    delta = logp_ref - logp
    k3 = torch.exp(delta) - 1 - delta
    per_token = -(_surrogate(torch.exp(logp - logp_old), advantages, eps_low, eps_high) - beta * k3)
    if mode != "seq_mean_token_mean":
        return _aggregate(per_token, mask, mode, max_len)
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    per_seq = (per_token * m).sum(dim=1) / lengths
    return per_seq[lengths > 0].mean()


@rewrite("grpo_loss", "splits on the sign of A with torch.where, k3 via expm1, aggregation by row loops")
def sign_split_expm1(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
                     mode="seq_mean_token_mean", max_len=None):
    ratio = torch.exp(logp - logp_old)
    adv = advantages.unsqueeze(1).expand_as(ratio)
    capped = torch.where(adv > 0, torch.clamp(ratio, max=1 + eps_high), torch.clamp(ratio, min=1 - eps_low))
    delta = logp_ref - logp
    per_token = beta * (torch.expm1(delta) - delta) - capped * adv
    batch, seq = per_token.shape
    sums, lengths = [], []
    for b in range(batch):
        n = int(mask[b].to(torch.int64).sum())
        sums.append(per_token[b, :n].sum())
        lengths.append(n)
    total = torch.stack(sums).sum()
    if mode == "token_mean":
        return total / sum(lengths) if sum(lengths) else total * float("nan")
    if mode == "seq_mean_token_mean":
        means = [s / n for s, n in zip(sums, lengths) if n]
        return torch.stack(means).mean() if means else total * float("nan")
    return total / (batch * (max_len or seq))


@rewrite("grpo_loss", "clips the log-ratio instead of the ratio and weights tokens with an explicit matrix")
def log_space_clip(logp, logp_old, logp_ref, advantages, mask, eps_low=0.2, eps_high=0.2, beta=0.0,
                   mode="seq_mean_token_mean", max_len=None):
    log_ratio = logp - logp_old
    ratio = log_ratio.exp()
    clipped = log_ratio.clamp(math.log(1 - eps_low), math.log(1 + eps_high)).exp()
    a = advantages.reshape(-1, 1)
    objective = torch.minimum(ratio * a, clipped * a)
    log_ref_ratio = logp_ref - logp
    kl = log_ref_ratio.exp() - log_ref_ratio - 1
    loss_per_token = beta * kl - objective
    valid = mask.bool()
    counts = valid.sum(dim=1).to(logp.dtype)                           # (B,)
    if mode == "token_mean":
        weights = valid.to(logp.dtype) / counts.sum()
    elif mode == "seq_mean_token_mean":
        rows = (counts > 0).sum().to(logp.dtype)
        weights = valid.to(logp.dtype) / (counts.clamp(min=1) * rows).unsqueeze(1)
    else:
        weights = valid.to(logp.dtype) / (logp.shape[0] * (max_len if max_len else logp.shape[1]))
    if not torch.isfinite(weights).all():                              # nothing to average over
        return loss_per_token.sum() * float("nan")
    return (torch.where(valid, loss_per_token, torch.zeros_like(loss_per_token)) * weights).sum()
