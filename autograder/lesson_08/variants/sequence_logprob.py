"""Known mistakes in ``sequence_logprob`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("sequence_logprob", "ignores the mask: sums (or averages) every position, padding included")
def ignores_mask(token_logps, mask, average=False):
    return token_logps.mean(dim=1) if average else token_logps.sum(dim=1)


@misconception("sequence_logprob", "averages over all T positions instead of the row's valid tokens")
def average_over_all_positions(token_logps, mask, average=False):
    total = (token_logps * mask.to(token_logps.dtype)).sum(dim=1)
    return total / token_logps.shape[1] if average else total


@misconception("sequence_logprob", "guards the division, so an empty row averages to 0 instead of NaN (0/0)")
def empty_row_average_is_zero(token_logps, mask, average=False):
    m = mask.to(token_logps.dtype)
    total = (token_logps * m).sum(dim=1)
    return total / m.sum(dim=1).clamp(min=1.0) if average else total


@misconception("sequence_logprob", "multiplies by the mask as given: a float64 mask turns float32 results into float64")
def mask_promotes_dtype(token_logps, mask, average=False):
    m = mask if mask.is_floating_point() else mask.to(token_logps.dtype)
    total = (token_logps * m).sum(dim=1)
    return total / m.sum(dim=1) if average else total


@misconception("sequence_logprob", "rebuilds the result from Python floats (.item()), which cuts the gradient")
def rebuilt_from_floats(token_logps, mask, average=False):
    m = mask.to(token_logps.dtype)
    total = (token_logps * m).sum(dim=1)
    values = total / m.sum(dim=1) if average else total
    return torch.tensor([v.item() for v in values], dtype=token_logps.dtype)


@misconception("sequence_logprob", "zeroes the padding in place (token_logps.mul_(mask)), modifying the input")
def masks_in_place(token_logps, mask, average=False):
    m = mask.to(token_logps.dtype)
    total = token_logps.mul_(m).sum(dim=1)
    return total / m.sum(dim=1) if average else total


@rewrite("sequence_logprob", "loops over rows and reduces the valid prefix (mean of an empty slice is NaN)")
def row_loop(token_logps, mask, average=False):
    rows = []
    for b in range(token_logps.shape[0]):
        n = int(mask[b].to(torch.int64).sum())
        valid = token_logps[b, :n]
        rows.append(valid.mean() if average else valid.sum())
    return torch.stack(rows)


@rewrite("sequence_logprob", "torch.where on a bool mask, then divides by the count of True entries")
def where_and_count(token_logps, mask, average=False):
    valid = mask.bool()
    total = torch.where(valid, token_logps, torch.zeros_like(token_logps)).sum(dim=-1)
    if not average:
        return total
    return total / valid.sum(dim=-1).to(token_logps.dtype)
