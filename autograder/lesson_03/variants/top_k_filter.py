"""Known mistakes in ``top_k_filter`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite

NEG_INF = float("-inf")


@misconception("top_k_filter", "keeps exactly k indices (scatter of torch.topk): ties at the k-th value are cut")
def exactly_k_indices(logits, k):
    k = min(k, logits.shape[-1])
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, torch.topk(logits, k, dim=-1).indices, True)
    return logits.masked_fill(~keep, NEG_INF)


@misconception("top_k_filter", "off by one: thresholds at the (k+1)-th largest value, keeping k + 1 tokens")
def keeps_k_plus_one(logits, k):
    if k + 1 > logits.shape[-1]:
        return logits.clone()
    kth = torch.topk(logits, k + 1, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, NEG_INF)


@misconception("top_k_filter", "keeps the k smallest logits (sorts the wrong way)")
def k_smallest(logits, k):
    if k >= logits.shape[-1]:
        return logits.clone()
    kth = torch.topk(logits, k, dim=-1, largest=False).values[..., -1:]
    return logits.masked_fill(logits > kth, NEG_INF)


@misconception("top_k_filter", "sets the filtered logits to 0 instead of -inf (they keep probability mass)")
def fills_zero(logits, k):
    if k >= logits.shape[-1]:
        return logits.clone()
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, 0.0)


@misconception("top_k_filter", "calls torch.topk(logits, k) without handling k > V (raises)")
def topk_without_clamp(logits, k):
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, NEG_INF)


@misconception("top_k_filter", "filters along the first axis (dim=0) instead of the vocabulary axis")
def wrong_axis(logits, k):
    if k >= logits.shape[0]:
        return logits.clone()
    kth = torch.topk(logits, k, dim=0).values[-1:]
    return logits.masked_fill(logits < kth, NEG_INF)


@misconception("top_k_filter", "writes the -inf into the caller's logits (masked_fill_ in place)")
def in_place(logits, k):
    if k >= logits.shape[-1]:
        return logits
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill_(logits < kth, NEG_INF)


@rewrite("top_k_filter", "sorts descending and thresholds at sorted[..., min(k, V) - 1]")
def sorted_threshold(logits, k):
    sorted_logits = torch.sort(logits, dim=-1, descending=True).values
    kth = sorted_logits[..., min(k, logits.shape[-1]) - 1].unsqueeze(-1)
    return torch.where(logits >= kth, logits, torch.full_like(logits, NEG_INF))


@rewrite("top_k_filter", "a token survives iff fewer than k entries are strictly larger (pairwise comparison)")
def count_strictly_larger(logits, k):
    larger = (logits.unsqueeze(-2) > logits.unsqueeze(-1)).sum(dim=-1)   # [..., V]: entries above each token
    return torch.where(larger < k, logits, torch.full_like(logits, NEG_INF))
