"""Known mistakes in ``reinforce_loss`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("reinforce_loss",
               "divides by the number of valid steps (token mean) instead of the number of trajectories B")
def token_mean(logprobs, weights, mask):
    m = mask.to(logprobs.dtype)
    return -(logprobs * weights * m).sum() / m.sum().clamp(min=1.0)


@misconception("reinforce_loss", "forgets the minus sign: minimising it descends J instead of ascending it")
def no_minus_sign(logprobs, weights, mask):
    m = mask.to(logprobs.dtype)
    return (logprobs * weights * m).sum() / logprobs.shape[0]


@misconception("reinforce_loss", "ignores the mask: padded steps count in the sum")
def ignores_mask(logprobs, weights, mask):
    return -(logprobs * weights).sum() / logprobs.shape[0]


@misconception("reinforce_loss",
               "averages over every position, -mean(mask * logprobs * weights), i.e. divides by B * T")
def mean_over_all_positions(logprobs, weights, mask):
    m = mask.to(logprobs.dtype)
    return -(logprobs * weights * m).mean()


@misconception("reinforce_loss", "divides by the number of non-empty rows instead of B (empty rows not counted)")
def skips_empty_rows(logprobs, weights, mask):
    m = mask.to(logprobs.dtype)
    rows = (m.sum(dim=1) > 0).sum().clamp(min=1).to(logprobs.dtype)
    return -(logprobs * weights * m).sum() / rows


@misconception("reinforce_loss", "averages each trajectory over its own length first (sequence mean of token means)")
def per_sequence_mean(logprobs, weights, mask):
    m = mask.to(logprobs.dtype)
    per_row = (logprobs * weights * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
    return -per_row.sum() / logprobs.shape[0]


@misconception("reinforce_loss", "multiplies by a float64 mask without casting it: a float32 loss comes back float64")
def mask_promotes_dtype(logprobs, weights, mask):
    m = mask if mask.is_floating_point() else mask.to(logprobs.dtype)
    return -(logprobs * weights * m).sum() / logprobs.shape[0]


@misconception("reinforce_loss", "detaches the log-probs (treats them as data): the loss has no gradient")
def detached_logprobs(logprobs, weights, mask):
    m = mask.to(logprobs.dtype)
    return -(logprobs.detach() * weights * m).sum() / logprobs.shape[0]


@rewrite("reinforce_loss", "torch.where for the mask, per-trajectory sums, then the batch mean (negated)")
def where_then_row_sums(logprobs, weights, mask):
    per_step = torch.where(mask.bool(), logprobs * weights, torch.zeros_like(logprobs))
    return per_step.sum(dim=1).mean().neg()


@rewrite("reinforce_loss", "loops over the trajectories, summing the valid prefix of each with a dot product")
def row_loop(logprobs, weights, mask):
    total = torch.zeros((), dtype=logprobs.dtype)
    for b, length in enumerate(mask.bool().sum(dim=1).tolist()):
        total = total + torch.dot(logprobs[b, :length], weights[b, :length])
    return -total / len(logprobs)
