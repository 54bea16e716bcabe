"""Known mistakes in ``value_loss_clipped`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("value_loss_clipped", "takes the min of the two squared errors (optimistic) instead of the max")
def min_instead_of_max(values, values_old, returns, mask, clip_eps=0.2):
    clipped = values_old + torch.clamp(values - values_old, -clip_eps, clip_eps)
    per_token = 0.5 * torch.minimum((values - returns) ** 2, (clipped - returns) ** 2)
    m = mask.to(values.dtype)
    return (per_token * m).sum() / m.sum()


@misconception("value_loss_clipped", "clips V relative to V_old, like a ratio: V_old * [1 - eps, 1 + eps]")
def relative_clip(values, values_old, returns, mask, clip_eps=0.2):
    low = torch.minimum(values_old * (1 - clip_eps), values_old * (1 + clip_eps))
    high = torch.maximum(values_old * (1 - clip_eps), values_old * (1 + clip_eps))
    clipped = torch.maximum(torch.minimum(values, high), low)
    per_token = 0.5 * torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)
    m = mask.to(values.dtype)
    return (per_token * m).sum() / m.sum()


@misconception("value_loss_clipped", "drops the factor 1/2")
def no_half(values, values_old, returns, mask, clip_eps=0.2):
    clipped = values_old + torch.clamp(values - values_old, -clip_eps, clip_eps)
    per_token = torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)
    m = mask.to(values.dtype)
    return (per_token * m).sum() / m.sum()


@misconception("value_loss_clipped", "divides by the number of positions (padding included) instead of valid tokens")
def divides_by_all_positions(values, values_old, returns, mask, clip_eps=0.2):
    clipped = values_old + torch.clamp(values - values_old, -clip_eps, clip_eps)
    per_token = 0.5 * torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)
    return (per_token * mask.to(values.dtype)).mean()


@misconception("value_loss_clipped", "averages per sequence, then over sequences, instead of over all valid tokens")
def sequence_mean(values, values_old, returns, mask, clip_eps=0.2):
    clipped = values_old + torch.clamp(values - values_old, -clip_eps, clip_eps)
    per_token = 0.5 * torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)
    m = mask.to(values.dtype)
    lengths = m.sum(dim=1)
    keep = lengths > 0
    return ((per_token * m).sum(dim=1)[keep] / lengths[keep]).mean()


@misconception("value_loss_clipped", "multiplies by the mask as given: a float64 mask promotes a float32 loss")
def mask_promotes_dtype(values, values_old, returns, mask, clip_eps=0.2):
    clipped = values_old + torch.clamp(values - values_old, -clip_eps, clip_eps)
    per_token = 0.5 * torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)
    m = mask if mask.is_floating_point() else mask.to(values.dtype)
    return (per_token * m).sum() / m.sum()


@rewrite("value_loss_clipped", "clipped value built piecewise with torch.where; the larger error kept by comparison")
def piecewise_where(values, values_old, returns, mask, clip_eps=0.2):
    move = values - values_old
    clipped = torch.where(move > clip_eps, values_old + clip_eps,
                          torch.where(move < -clip_eps, values_old - clip_eps, values))
    plain_error = (values - returns) ** 2
    clipped_error = (clipped - returns) ** 2
    per_token = torch.where(clipped_error > plain_error, clipped_error, plain_error) / 2
    valid = mask.bool()
    return per_token[valid].mean()


@rewrite("value_loss_clipped", "loops over rows, with abs() of the errors instead of squares before the max")
def row_loops(values, values_old, returns, mask, clip_eps=0.2):
    total = values.new_zeros(())
    count = 0
    for b in range(values.shape[0]):
        n = int(mask[b].to(torch.int64).sum())  # right-padded: the first n tokens are valid
        if n == 0:
            continue
        v, v_old, r = values[b, :n], values_old[b, :n], returns[b, :n]
        v_clip = torch.clamp(v, v_old - clip_eps, v_old + clip_eps)
        worst = torch.maximum((v - r).abs(), (v_clip - r).abs())
        total = total + 0.5 * (worst * worst).sum()
        count += n
    return total / count if count else total * float("nan")
