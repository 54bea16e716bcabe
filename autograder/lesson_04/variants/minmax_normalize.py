"""Known mistakes in ``minmax_normalize`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _float(scores):
    return scores if scores.is_floating_point() else scores.to(torch.float32)


@misconception("minmax_normalize", "no special case: all-equal scores give 0/0 = NaN")
def nan_when_constant(scores):
    x = _float(scores)
    return (x - x.min()) / (x.max() - x.min())


@misconception("minmax_normalize", "adds eps to the range: all-equal scores give 0 instead of 0.5")
def eps_in_denominator(scores):
    x = _float(scores)
    return (x - x.min()) / (x.max() - x.min() + 1e-8)


@misconception("minmax_normalize", "divides by the maximum only: s / max")
def divide_by_max(scores):
    x = _float(scores)
    return x / x.max()


@misconception("minmax_normalize", "reversed: (max - s) / (max - min), the best score maps to 0")
def reversed_scale(scores):
    x = _float(scores)
    if x.max() == x.min():
        return torch.full_like(x, 0.5)
    return (x.max() - x) / (x.max() - x.min())


@misconception("minmax_normalize", "z-score standardisation (s - mean) / std instead of min-max")
def z_score(scores):
    x = _float(scores)
    if x.max() == x.min():
        return torch.full_like(x, 0.5)
    return (x - x.mean()) / x.std()


@misconception("minmax_normalize", "integer scores come back as float64 (torch.double())")
def integers_to_float64(scores):
    x = scores if scores.is_floating_point() else scores.double()
    if x.max() == x.min():
        return torch.full_like(x, 0.5)
    return (x - x.min()) / (x.max() - x.min())


@misconception("minmax_normalize", "shifts the caller's tensor in place (scores -= min)")
def in_place(scores):
    if not scores.is_floating_point():
        scores = scores.to(torch.float32)
    lo, hi = scores.min().item(), scores.max().item()
    if hi == lo:
        return torch.full_like(scores, 0.5)
    scores -= lo
    return scores / (hi - lo)


@rewrite("minmax_normalize", "Python loop over the values with min()/max() of a list")
def python_loop(scores):
    dtype = scores.dtype if scores.is_floating_point() else torch.float32
    values = scores.tolist()
    lo, hi = min(values), max(values)
    if hi == lo:
        return torch.full((len(values),), 0.5, dtype=dtype)
    return torch.tensor([(v - lo) / (hi - lo) for v in values], dtype=torch.float64).to(dtype)


@rewrite("minmax_normalize", "torch.aminmax and torch.where on the range")
def aminmax_where(scores):
    x = scores.float() if not torch.is_floating_point(scores) else scores
    lo, hi = torch.aminmax(x)
    spread = hi - lo
    safe = torch.where(spread > 0, spread, torch.ones_like(spread))
    return torch.where(spread > 0, (x - lo) / safe, torch.full_like(x, 0.5))
