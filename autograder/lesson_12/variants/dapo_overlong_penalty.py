"""Known mistakes in ``dapo_overlong_penalty`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _float(lengths):
    return lengths if lengths.is_floating_point() else lengths.to(torch.float32)


@misconception("dapo_overlong_penalty", "no floor at -1: the linear ramp keeps falling beyond max_len")
def ramp_without_floor(lengths, max_len, cache_len):
    lengths = _float(lengths)
    ramp = (max_len - cache_len - lengths) / cache_len
    return torch.clamp(ramp, max=0.0)


@misconception("dapo_overlong_penalty", "divides the overshoot by max_len instead of cache_len")
def divides_by_max_len(lengths, max_len, cache_len):
    lengths = _float(lengths)
    ramp = (max_len - cache_len - lengths) / max_len
    penalty = torch.where(lengths <= max_len - cache_len, torch.zeros_like(lengths), ramp)
    return torch.where(lengths > max_len, torch.full_like(lengths, -1.0), penalty)


@misconception("dapo_overlong_penalty", "floor division //: integer lengths give integer, floored penalties")
def floor_division(lengths, max_len, cache_len):
    ramp = (max_len - cache_len - lengths) // cache_len
    penalty = torch.where(lengths <= max_len - cache_len, torch.zeros_like(ramp), ramp)
    return torch.where(lengths > max_len, torch.full_like(penalty, -1), penalty)


@misconception("dapo_overlong_penalty", "measures the overshoot from max_len, not from max_len - cache_len")
def distance_to_max_len(lengths, max_len, cache_len):
    lengths = _float(lengths)
    ramp = (max_len - lengths) / cache_len
    penalty = torch.where(lengths <= max_len - cache_len, torch.zeros_like(lengths), ramp)
    return torch.where(lengths > max_len, torch.full_like(lengths, -1.0), penalty)


@misconception("dapo_overlong_penalty", "casts integer lengths to float64 (.double()) instead of float32")
def integer_lengths_to_float64(lengths, max_len, cache_len):
    lengths = lengths if lengths.is_floating_point() else lengths.double()
    return torch.clamp((max_len - cache_len - lengths) / cache_len, min=-1.0, max=0.0)


@misconception("dapo_overlong_penalty", "treats L = max_len as overlong (uses L < max_len for the ramp)")
def max_len_exclusive(lengths, max_len, cache_len):
    lengths = _float(lengths)
    ramp = (max_len - cache_len - lengths) / cache_len
    penalty = torch.where(lengths <= max_len - cache_len, torch.zeros_like(lengths), ramp)
    # a typical off-by-one: the ramp ends one token early and the last ramp length jumps to -1
    penalty = torch.where(lengths >= max_len - 1, torch.full_like(lengths, -1.0), penalty)
    return penalty


@rewrite("dapo_overlong_penalty", "one clamp: clamp((L_max - L_cache - L) / L_cache, -1, 0)")
def single_clamp(lengths, max_len, cache_len):
    x = lengths.float() if not torch.is_floating_point(lengths) else lengths
    return ((max_len - cache_len - x) / cache_len).clamp(min=-1.0, max=0.0)


@rewrite("dapo_overlong_penalty", "a Python loop over the lengths with the three cases of the paper")
def python_cases(lengths, max_len, cache_len):
    dtype = lengths.dtype if lengths.is_floating_point() else torch.float32
    out = []
    for n in lengths.tolist():
        if n <= max_len - cache_len:
            out.append(0.0)
        elif n <= max_len:
            out.append(-(n - (max_len - cache_len)) / cache_len)
        else:
            out.append(-1.0)
    return torch.tensor(out, dtype=dtype)
