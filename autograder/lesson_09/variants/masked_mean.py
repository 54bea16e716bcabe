"""Known mistakes in ``masked_mean`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _float(x):
    return x if x.is_floating_point() else x.to(torch.float32)


@misconception("masked_mean", "ignores the mask: x.mean() averages the padding too")
def ignores_mask(x, mask, dim=None):
    x = _float(x)
    return x.mean() if dim is None else x.mean(dim=dim)


@misconception("masked_mean", "zeroes the padding but divides by the number of positions: (x * mask).mean()")
def divides_by_all_positions(x, mask, dim=None):
    x = _float(x)
    masked = x * mask.to(x.dtype)
    return masked.mean() if dim is None else masked.mean(dim=dim)


@misconception("masked_mean", "guards the division with clamp(min=1): an empty set gives 0 instead of NaN")
def empty_set_gives_zero(x, mask, dim=None):
    x = _float(x)
    m = mask.to(x.dtype)
    if dim is None:
        return (x * m).sum() / m.sum().clamp(min=1.0)
    return (x * m).sum(dim=dim) / m.sum(dim=dim).clamp(min=1.0)


@misconception("masked_mean", "keeps the reduced dimension (keepdim=True)")
def keeps_dim(x, mask, dim=None):
    x = _float(x)
    m = mask.to(x.dtype)
    if dim is None:
        return (x * m).sum() / m.sum()
    return (x * m).sum(dim=dim, keepdim=True) / m.sum(dim=dim, keepdim=True)


@misconception("masked_mean", "dim=None averages the per-row means (every sequence weighs the same, not every token)")
def mean_of_row_means(x, mask, dim=None):
    x = _float(x)
    m = mask.to(x.dtype)
    if dim is not None:
        return (x * m).sum(dim=dim) / m.sum(dim=dim)
    if x.dim() == 1:
        return (x * m).sum() / m.sum()
    rows = (x * m).sum(dim=-1) / m.sum(dim=-1)
    return rows[~torch.isnan(rows)].mean()


@misconception("masked_mean", "multiplies by the mask as given: a float64 mask turns float32 results into float64")
def mask_promotes_dtype(x, mask, dim=None):
    x = _float(x)
    m = mask if mask.is_floating_point() else mask.to(x.dtype)
    if dim is None:
        return (x * m).sum() / m.sum()
    return (x * m).sum(dim=dim) / m.sum(dim=dim)


@misconception("masked_mean", "zeroes the padding in place (x.mul_(mask)), modifying the caller's tensor")
def masks_in_place(x, mask, dim=None):
    x = _float(x)
    m = mask.to(x.dtype)
    x.mul_(m)
    if dim is None:
        return x.sum() / m.sum()
    return x.sum(dim=dim) / m.sum(dim=dim)


@misconception("masked_mean", "calls x.mean() on the selected entries without a float cast: fails on integer x")
def no_integer_cast(x, mask, dim=None):
    m = mask.to(x.dtype) if x.is_floating_point() else mask.to(torch.float64)
    if dim is None:
        return x[mask.bool()].mean()
    return (x * m).sum(dim=dim) / m.sum(dim=dim)


@rewrite("masked_mean", "boolean indexing for dim=None; moves dim last and loops over the remaining entries otherwise")
def index_and_loop(x, mask, dim=None):
    x = x if x.is_floating_point() else x.float()
    valid = mask.bool()
    if dim is None:
        return x[valid].mean()  # the mean of an empty selection is NaN
    xs, vs = x.movedim(dim, -1), valid.movedim(dim, -1)
    flat_x, flat_v = xs.reshape(-1, xs.shape[-1]), vs.reshape(-1, vs.shape[-1])
    means = torch.stack([row[keep].mean() for row, keep in zip(flat_x, flat_v)])
    return means.reshape(xs.shape[:-1])


@rewrite("masked_mean", "torch.where with zeros, then divides by the count of True entries cast to x's dtype")
def where_and_count(x, mask, dim=None):
    x = x.to(torch.float32) if not torch.is_floating_point(x) else x
    valid = mask != 0
    kept = torch.where(valid, x, torch.zeros((), dtype=x.dtype))
    reduce = {} if dim is None else {"dim": dim}
    return kept.sum(**reduce) / valid.sum(**reduce).to(x.dtype)
