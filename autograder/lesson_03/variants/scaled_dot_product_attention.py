"""Known mistakes in ``scaled_dot_product_attention`` and independent correct rewrites."""

import math

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _masked(scores, mask, fill=float("-inf")):
    return scores if mask is None else scores.masked_fill(~mask, fill)


@misconception("scaled_dot_product_attention", "forgets the 1/sqrt(d) scale")
def no_scale(q, k, v, mask=None):
    scores = _masked(q @ k.transpose(-2, -1), mask)
    return torch.softmax(scores, dim=-1) @ v


@misconception("scaled_dot_product_attention", "divides the scores by d instead of sqrt(d)")
def divides_by_d(q, k, v, mask=None):
    scores = _masked(q @ k.transpose(-2, -1) / q.shape[-1], mask)
    return torch.softmax(scores, dim=-1) @ v


@misconception("scaled_dot_product_attention", "scales by sqrt of the number of keys S instead of the head dimension d")
def scales_by_sequence_length(q, k, v, mask=None):
    scores = _masked(q @ k.transpose(-2, -1) / math.sqrt(k.shape[-2]), mask)
    return torch.softmax(scores, dim=-1) @ v


@misconception("scaled_dot_product_attention", "softmax over the queries (dim=-2) instead of the keys")
def softmax_over_queries(q, k, v, mask=None):
    scores = _masked(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), mask)
    return torch.nan_to_num(torch.softmax(scores, dim=-2)) @ v


@misconception("scaled_dot_product_attention", "reads the mask the other way round (masked_fill(mask, -inf))")
def inverted_mask(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


@misconception("scaled_dot_product_attention", "naive softmax exp(s) / sum exp(s) without subtracting the max: overflows")
def naive_softmax(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    e = torch.exp(scores)
    if mask is not None:
        e = e * mask
    return (e / e.sum(dim=-1, keepdim=True)) @ v


@misconception("scaled_dot_product_attention", "zeroes the blocked weights after the softmax without renormalising")
def mask_after_softmax(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    if mask is not None:
        weights = weights * mask
    return weights @ v


@misconception("scaled_dot_product_attention", "fills blocked scores with -1e4 instead of -inf: fails when scores are huge")
def finite_fill(q, k, v, mask=None):
    scores = _masked(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), mask, fill=-1e4)
    return torch.softmax(scores, dim=-1) @ v


@misconception("scaled_dot_product_attention", "scales q in place (q.div_(sqrt(d))): the caller's queries change")
def scales_q_in_place(q, k, v, mask=None):
    q = q.detach() if q.requires_grad else q
    q.div_(math.sqrt(q.shape[-1]))
    scores = _masked(q @ k.transpose(-2, -1), mask)
    return torch.softmax(scores, dim=-1) @ v


@rewrite("scaled_dot_product_attention", "einsum scores, additive 0/-inf mask via torch.where, weights from logsumexp")
def einsum_logsumexp(q, k, v, mask=None):
    scores = torch.einsum("bhtd,bhsd->bhts", q * (q.shape[-1] ** -0.5), k)
    if mask is not None:
        scores = scores + torch.where(mask, 0.0, float("-inf")).to(scores.dtype)
    weights = torch.exp(scores - torch.logsumexp(scores, dim=-1, keepdim=True))
    return torch.einsum("bhts,bhse->bhte", weights, v)


@rewrite("scaled_dot_product_attention", "loops over batch, head and query with an explicit max-subtracted softmax")
def per_query_loops(q, k, v, mask=None):
    B, H, T, d = q.shape
    full_mask = None if mask is None else mask.expand(B, H, T, k.shape[-2])
    rows = []
    for b in range(B):
        heads = []
        for h in range(H):
            queries = []
            for t in range(T):
                s = (k[b, h] * q[b, h, t]).sum(dim=-1) / math.sqrt(d)           # (S,)
                if full_mask is not None:
                    allowed = full_mask[b, h, t]
                    s = torch.where(allowed, s, torch.full_like(s, float("-inf")))
                e = torch.exp(s - s.max())
                w = e / e.sum()
                queries.append((w[:, None] * v[b, h]).sum(dim=0))
            heads.append(torch.stack(queries))
        rows.append(torch.stack(heads))
    return torch.stack(rows)


@misconception("scaled_dot_product_attention", "uses the forbidden built-in F.scaled_dot_product_attention")
def builtin_sdpa(q, k, v, mask=None):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


@misconception("scaled_dot_product_attention", "uses the forbidden built-in via torch.nn.functional's full name")
def builtin_sdpa_full_name(q, k, v, mask=None):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
