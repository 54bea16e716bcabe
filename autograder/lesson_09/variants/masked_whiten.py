"""Known mistakes in ``masked_whiten`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _float(x):
    return x if x.is_floating_point() else x.to(torch.float32)


@misconception("masked_whiten", "uses the population variance (divides by n, not n - 1)")
def population_variance(x, mask, eps=1e-8):
    x = _float(x)
    m = mask.to(x.dtype)
    mu = (x * m).sum() / m.sum()
    var = (m * (x - mu) ** 2).sum() / m.sum()
    return (x - mu) / torch.sqrt(var + eps) * m


@misconception("masked_whiten", "adds eps to the std instead of the variance: (x - mu) / (std + eps)")
def eps_outside_sqrt(x, mask, eps=1e-8):
    x = _float(x)
    m = mask.to(x.dtype)
    mu = (x * m).sum() / m.sum()
    var = (m * (x - mu) ** 2).sum() / (m.sum() - 1)
    return (x - mu) / (torch.sqrt(var) + eps) * m


@misconception("masked_whiten", "leaves (x - mu) / std at masked positions instead of 0")
def padding_not_zeroed(x, mask, eps=1e-8):
    x = _float(x)
    m = mask.to(x.dtype)
    mu = (x * m).sum() / m.sum()
    var = (m * (x - mu) ** 2).sum() / (m.sum() - 1)
    return (x - mu) / torch.sqrt(var + eps)


@misconception("masked_whiten", "takes the mean and variance over all positions, padding included")
def statistics_ignore_mask(x, mask, eps=1e-8):
    x = _float(x)
    m = mask.to(x.dtype)
    return (x - x.mean()) / torch.sqrt(x.var() + eps) * m


@misconception("masked_whiten", "adds the mean back afterwards (TRL's shift_mean=False)")
def adds_mean_back(x, mask, eps=1e-8):
    x = _float(x)
    m = mask.to(x.dtype)
    mu = (x * m).sum() / m.sum()
    var = (m * (x - mu) ** 2).sum() / (m.sum() - 1)
    return ((x - mu) / torch.sqrt(var + eps) + mu) * m


@misconception("masked_whiten", "whitens each row with its own statistics instead of the whole batch's")
def per_row(x, mask, eps=1e-8):
    x = _float(x)
    m = mask.to(x.dtype)
    if x.dim() < 2:
        mu = (x * m).sum() / m.sum()
        var = (m * (x - mu) ** 2).sum() / (m.sum() - 1)
        return (x - mu) / torch.sqrt(var + eps) * m
    n = m.sum(dim=-1, keepdim=True)
    mu = (x * m).sum(dim=-1, keepdim=True) / n
    var = (m * (x - mu) ** 2).sum(dim=-1, keepdim=True) / (n - 1)
    return torch.nan_to_num((x - mu) / torch.sqrt(var + eps)) * m


@misconception("masked_whiten", "multiplies by the mask as given: a float64 mask turns float32 results into float64")
def mask_promotes_dtype(x, mask, eps=1e-8):
    x = _float(x)
    m = mask if mask.is_floating_point() else mask.to(x.dtype)
    mu = (x * m).sum() / m.sum()
    var = (m * (x - mu) ** 2).sum() / (m.sum() - 1)
    return (x - mu) / torch.sqrt(var + eps) * m


@misconception("masked_whiten", "centres x in place (x -= mu), modifying the caller's tensor")
def centres_in_place(x, mask, eps=1e-8):
    x = _float(x)
    m = mask.to(x.dtype)
    x -= (x * m).sum() / m.sum()
    var = (m * x ** 2).sum() / (m.sum() - 1)
    return x / torch.sqrt(var + eps) * m


@rewrite("masked_whiten", "selects the valid entries, torch.var_mean(correction=1), scatters back with torch.where")
def select_and_scatter(x, mask, eps=1e-8):
    x = x if x.is_floating_point() else x.float()
    valid = mask.bool()
    var, mean = torch.var_mean(x[valid], correction=1)
    return torch.where(valid, (x - mean) * torch.rsqrt(var + eps), torch.zeros((), dtype=x.dtype))


@rewrite("masked_whiten", "flattens and loops over the entries with explicit Python sums for the two passes")
def explicit_loops(x, mask, eps=1e-8):
    x = x.to(torch.float32) if not torch.is_floating_point(x) else x
    flat, keep = x.reshape(-1), mask.reshape(-1) != 0
    n, total = 0, torch.zeros((), dtype=x.dtype)
    for value, k in zip(flat, keep):
        if k:
            total, n = total + value, n + 1
    mean = total / n
    squares = torch.zeros((), dtype=x.dtype)
    for value, k in zip(flat, keep):
        if k:
            squares = squares + (value - mean) ** 2
    scale = 1.0 / torch.sqrt(squares / (n - 1) + eps)
    out = [(value - mean) * scale if k else torch.zeros((), dtype=x.dtype) for value, k in zip(flat, keep)]
    return torch.stack(out).reshape(x.shape)
