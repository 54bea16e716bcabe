"""Known mistakes in ``microbatch_loss`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("microbatch_loss", "averages within the microbatch (divides by its own valid count, not the batch's)")
def local_token_mean(per_token_loss, mask, total_valid_tokens):
    m = mask.to(per_token_loss.dtype)
    return (per_token_loss * m).sum() / m.sum()


@misconception("microbatch_loss", "local mean * (local count / total): right value, NaN for a padding-only microbatch")
def rescaled_local_mean(per_token_loss, mask, total_valid_tokens):
    m = mask.to(per_token_loss.dtype)
    local = m.sum()
    return (per_token_loss * m).sum() / local * (local / total_valid_tokens)


@misconception("microbatch_loss", "ignores the mask: sums the padding's losses too")
def ignores_mask(per_token_loss, mask, total_valid_tokens):
    return per_token_loss.sum() / total_valid_tokens


@misconception("microbatch_loss", "zeroes the padding, then takes .mean() over all b * T positions")
def mean_over_positions(per_token_loss, mask, total_valid_tokens):
    return (per_token_loss * mask.to(per_token_loss.dtype)).mean()


@misconception("microbatch_loss", "multiplies by the mask as given: a float64 mask turns a float32 loss into float64")
def mask_promotes_dtype(per_token_loss, mask, total_valid_tokens):
    m = mask if mask.is_floating_point() else mask.to(per_token_loss.dtype)
    return (per_token_loss * m).sum() / total_valid_tokens


@misconception("microbatch_loss", "masks the losses in place (per_token_loss.mul_(mask))")
def masks_in_place(per_token_loss, mask, total_valid_tokens):
    return per_token_loss.mul_(mask.to(per_token_loss.dtype)).sum() / total_valid_tokens


@rewrite("microbatch_loss", "boolean selection of the valid losses, summed and divided as a float")
def select_valid(per_token_loss, mask, total_valid_tokens):
    return per_token_loss[mask.bool()].sum() / float(total_valid_tokens)


@rewrite("microbatch_loss", "per-row masked sums, then their sum times 1 / N")
def row_sums(per_token_loss, mask, total_valid_tokens):
    kept = torch.where(mask != 0, per_token_loss, torch.zeros_like(per_token_loss))
    return kept.sum(dim=1).sum() * (1.0 / total_valid_tokens)
