"""Known mistakes in ``log_softmax`` and independent correct rewrites.

Variants that call the forbidden built-ins are in ``_forbidden.py`` (the framework's detector rejects them).
"""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


@misconception("log_softmax", "naive log(exp(x) / sum(exp(x))): inf/inf = NaN and log(0) = -inf for |x| ~ 1e4")
def naive_exp(x, dim=-1):
    e = torch.exp(x)
    return torch.log(e / e.sum(dim=dim, keepdim=True))


@misconception("log_softmax", "always normalises over the last dimension, ignoring dim")
def ignores_dim(x, dim=-1):
    c = x.amax(dim=-1, keepdim=True)
    return x - c - torch.log(torch.exp(x - c).sum(dim=-1, keepdim=True))


@misconception("log_softmax", "subtracts the max inside the exp but forgets to add it back: x - log(sum(exp(x - max)))")
def forgets_to_add_max_back(x, dim=-1):
    c = x.amax(dim=dim, keepdim=True)
    return x - torch.log(torch.exp(x - c).sum(dim=dim, keepdim=True))


@misconception("log_softmax", "shifts by the global max of the tensor, not each slice's max: a slice far below "
               "it underflows to log(0) = -inf")
def global_max_shift(x, dim=-1):
    c = x.max()
    return x - c - torch.log(torch.exp(x - c).sum(dim=dim, keepdim=True))


@misconception("log_softmax", "shifts by the mean instead of the max: exp(x - mean) still overflows for a wide slice")
def mean_shift(x, dim=-1):
    c = x.mean(dim=dim, keepdim=True)
    return x - c - torch.log(torch.exp(x - c).sum(dim=dim, keepdim=True))


@misconception("log_softmax", "returns the softmax probabilities (forgets the log)")
def returns_softmax(x, dim=-1):
    c = x.amax(dim=dim, keepdim=True)
    e = torch.exp(x - c)
    return e / e.sum(dim=dim, keepdim=True)


@misconception("log_softmax", "reduces without keepdim: the [B] logsumexp broadcasts against the wrong axis")
def no_keepdim(x, dim=-1):
    return x - torch.logsumexp(x, dim=dim)


@misconception("log_softmax", "subtracts the max in place (x -= max): the caller's logits change")
def in_place_shift(x, dim=-1):
    x -= x.amax(dim=dim, keepdim=True).detach()
    return x - torch.log(torch.exp(x).sum(dim=dim, keepdim=True))


@rewrite("log_softmax", "x - torch.logsumexp(x, dim, keepdim=True)")
def with_logsumexp(x, dim=-1):
    return x - torch.logsumexp(x, dim=dim, keepdim=True)


@rewrite("log_softmax", "moves dim last, loops over the slices with Python max/sum of a 1-D tensor, moves it back")
def slice_loop(x, dim=-1):
    moved = x.movedim(dim, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    rows = []
    for row in flat:
        top = row.max()
        rows.append(row - (top + torch.log(torch.sum(torch.exp(row - top)))))
    return torch.stack(rows).reshape(moved.shape).movedim(-1, dim)


@misconception("log_softmax", "uses the forbidden built-in F.log_softmax")
def builtin_f_log_softmax(x, dim=-1):
    return F.log_softmax(x, dim=dim)


@misconception("log_softmax", "uses the forbidden built-in torch.log_softmax")
def builtin_torch_log_softmax(x, dim=-1):
    return torch.log_softmax(x, dim=dim)


@misconception("log_softmax", "uses the forbidden built-in Tensor.log_softmax")
def builtin_tensor_log_softmax(x, dim=-1):
    return x.log_softmax(dim)


@misconception("log_softmax", "uses the forbidden built-in torch.softmax followed by a log (also -inf for |x| ~ 1e4)")
def builtin_softmax_then_log(x, dim=-1):
    return torch.log(torch.softmax(x, dim=dim))
