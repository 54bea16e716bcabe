"""Known mistakes in ``normalize_advantages`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _stats(adv, m, correction=1):
    n = m.sum()
    mean = (adv * m).sum() / n
    var = (((adv - mean) * m) ** 2).sum() / (n - correction)
    return mean, var.sqrt()


@misconception("normalize_advantages", "uses the population std (divides by n) instead of the Bessel-corrected one")
def population_std(adv, mask, eps=1e-8):
    m = mask.to(adv.dtype)
    mean, std = _stats(adv, m, correction=0)
    return (adv - mean) / (std + eps) * m


@misconception("normalize_advantages", "normalises each row separately instead of over the whole batch")
def per_row(adv, mask, eps=1e-8):
    m = mask.to(adv.dtype)
    n = m.sum(dim=1, keepdim=True)
    mean = (adv * m).sum(dim=1, keepdim=True) / n.clamp(min=1.0)
    var = (((adv - mean) * m) ** 2).sum(dim=1, keepdim=True) / (n - 1).clamp(min=1.0)
    return (adv - mean) / (var.sqrt() + eps) * m


@misconception("normalize_advantages",
               "takes mean and std over every position, padding included (adv.mean(), adv.std())")
def unmasked_statistics(adv, mask, eps=1e-8):
    m = mask.to(adv.dtype)
    return (adv - adv.mean()) / (adv.std() + eps) * m


@misconception("normalize_advantages", "leaves the normalised padding values instead of setting them to 0")
def padding_not_zeroed(adv, mask, eps=1e-8):
    m = mask.to(adv.dtype)
    mean, std = _stats(adv, m)
    return (adv - mean) / (std + eps)


@misconception("normalize_advantages", "puts eps inside the square root: sqrt(var + eps) instead of std + eps")
def eps_inside_sqrt(adv, mask, eps=1e-8):
    m = mask.to(adv.dtype)
    mean, std = _stats(adv, m)
    return (adv - mean) / torch.sqrt(std ** 2 + eps) * m


@misconception("normalize_advantages", "divides by the std without eps: equal advantages give 0/0 = NaN")
def no_eps(adv, mask, eps=1e-8):
    m = mask.to(adv.dtype)
    mean, std = _stats(adv, m)
    return (adv - mean) / std * m


@misconception("normalize_advantages",
               "multiplies by a float64 mask without casting it: float32 advantages come back float64")
def mask_promotes_dtype(adv, mask, eps=1e-8):
    m = mask if mask.is_floating_point() else mask.to(adv.dtype)
    mean, std = _stats(adv, m)
    return (adv - mean) / (std + eps) * m


@rewrite("normalize_advantages",
         "boolean indexing with torch.std / torch.mean on the valid values, scattered into zeros")
def boolean_indexing(adv, mask, eps=1e-8):
    keep = mask.bool()
    valid = adv[keep]
    out = torch.zeros_like(adv)
    out[keep] = (valid - valid.mean()) / (valid.std() + eps)
    return out


@rewrite("normalize_advantages", "torch.var_mean(correction=1) on the valid values and torch.where for the padding")
def var_mean_where(adv, mask, eps=1e-8):
    keep = mask.bool()
    var, mean = torch.var_mean(adv.masked_select(keep), correction=1)
    return torch.where(keep, (adv - mean) / (var.sqrt() + eps), torch.zeros((), dtype=adv.dtype))
