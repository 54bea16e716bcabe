"""Known mistakes in ``ppo_clip_loss`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("ppo_clip_loss", "takes the max of the two surrogate terms instead of the pessimistic min")
def max_instead_of_min(logp, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp - logp_old)
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    per_token = -torch.maximum(ratio * advantages, clipped * advantages)
    m = mask.to(logp.dtype)
    clip_fraction = (((ratio - 1).abs() > clip_eps).to(logp.dtype) * m).sum() / m.sum()
    return (per_token * m).sum() / m.sum(), clip_fraction


@misconception("ppo_clip_loss", "averages per sequence, then over sequences, instead of over all valid tokens")
def sequence_mean(logp, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp - logp_old)
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    per_token = -torch.minimum(ratio * advantages, clipped * advantages)
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    keep = lengths > 0
    loss = ((per_token * m).sum(dim=1)[keep] / lengths[keep]).mean()
    clip_fraction = (((ratio - 1).abs() > clip_eps).to(logp.dtype) * m).sum() / m.sum()
    return loss, clip_fraction


@misconception("ppo_clip_loss", "computes the ratio as exp(logp) / exp(logp_old): 0/0 for log-probs near -1e4")
def ratio_of_probabilities(logp, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp) / torch.exp(logp_old)
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    per_token = -torch.minimum(ratio * advantages, clipped * advantages)
    m = mask.to(logp.dtype)
    clip_fraction = (((ratio - 1).abs() > clip_eps).to(logp.dtype) * m).sum() / m.sum()
    return (per_token * m).sum() / m.sum(), clip_fraction


@misconception("ppo_clip_loss", "multiplies by the mask as given: a float64 mask promotes float32 results to float64")
def mask_promotes_dtype(logp, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp - logp_old)
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    per_token = -torch.minimum(ratio * advantages, clipped * advantages)
    m = mask if mask.is_floating_point() else mask.to(logp.dtype)
    clip_fraction = (((ratio - 1).abs() > clip_eps) * m).sum() / m.sum()
    return (per_token * m).sum() / m.sum(), clip_fraction


@misconception("ppo_clip_loss", "counts as clipped only the tokens where the min picked the clipped term")
def clip_fraction_of_active_clip(logp, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp - logp_old)
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    per_token = -torch.minimum(ratio * advantages, clipped * advantages)
    m = mask.to(logp.dtype)
    active = (clipped * advantages < ratio * advantages).to(logp.dtype)
    return (per_token * m).sum() / m.sum(), (active * m).sum() / m.sum()


@misconception("ppo_clip_loss", "takes the clip fraction over every position, padding included")
def unmasked_clip_fraction(logp, logp_old, advantages, mask, clip_eps=0.2):
    ratio = torch.exp(logp - logp_old)
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    per_token = -torch.minimum(ratio * advantages, clipped * advantages)
    m = mask.to(logp.dtype)
    clip_fraction = ((ratio - 1).abs() > clip_eps).to(logp.dtype).mean()
    return (per_token * m).sum() / m.sum(), clip_fraction


@misconception("ppo_clip_loss", "zeroes the padded advantages in place (the caller's tensor changes)")
def zeroes_padding_in_place(logp, logp_old, advantages, mask, clip_eps=0.2):
    advantages[~mask.bool()] = 0.0
    ratio = torch.exp(logp - logp_old)
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    per_token = -torch.minimum(ratio * advantages, clipped * advantages)
    m = mask.to(logp.dtype)
    clip_fraction = (((ratio - 1).abs() > clip_eps).to(logp.dtype) * m).sum() / m.sum()
    return per_token.sum() / m.sum(), clip_fraction


@rewrite("ppo_clip_loss", "picks the binding bound from the sign of A (torch.where); valid tokens selected by indexing")
def sign_split_with_indexing(logp, logp_old, advantages, mask, clip_eps=0.2):
    valid = mask.bool()
    log_ratio = (logp - logp_old)[valid]
    adv = advantages[valid]
    ratio = log_ratio.exp()
    # A >= 0: the objective is capped above at 1 + eps; A < 0: capped below at 1 - eps
    capped = torch.where(adv >= 0, torch.clamp(ratio, max=1 + clip_eps), torch.clamp(ratio, min=1 - clip_eps))
    loss = (-capped * adv).mean()
    outside = (ratio > 1 + clip_eps) | (ratio < 1 - clip_eps)
    return loss, outside.to(logp.dtype).mean()


@rewrite("ppo_clip_loss", "accumulates token by token in Python loops")
def token_loops(logp, logp_old, advantages, mask, clip_eps=0.2):
    batch, seq = logp.shape
    total = logp.new_zeros(())
    clipped_count = logp.new_zeros(())
    count = 0
    for b in range(batch):
        for t in range(seq):
            if not bool(mask[b, t]):
                continue
            r = torch.exp(logp[b, t] - logp_old[b, t])
            a = advantages[b, t]
            surrogate = torch.minimum(r * a, r.clamp(1 - clip_eps, 1 + clip_eps) * a)
            total = total - surrogate
            clipped_count = clipped_count + float(abs(float(r) - 1) > clip_eps)
            count += 1
    nan = logp.new_tensor(float("nan"))
    if count == 0:
        return total * nan, nan
    return total / count, clipped_count / count
