"""Known mistakes in ``top_p_filter`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite

NEG_INF = float("-inf")


def _nucleus(logits, p, keep_rule, *, descending=True, tie_lower_first=True, sort_values=None):
    values = torch.softmax(logits, dim=-1) if sort_values is None else sort_values
    if tie_lower_first:
        _, order = torch.sort(values, dim=-1, descending=descending, stable=True)
    else:  # flip, stable sort, flip back: ties go to the higher index
        flipped = values.flip(-1)
        _, order = torch.sort(flipped, dim=-1, descending=descending, stable=True)
        order = values.shape[-1] - 1 - order
    probs = torch.softmax(logits, dim=-1).gather(-1, order)
    keep_sorted = keep_rule(probs.cumsum(dim=-1), probs)
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    return logits.masked_fill(~keep, NEG_INF)


@misconception("top_p_filter", "keeps only tokens whose cumulative probability is <= p: drops the token that crosses p")
def drops_crossing_token(logits, p):
    return _nucleus(logits, p, lambda cum, probs: cum <= p)


@misconception("top_p_filter", "keeps one token too many (also the token after the one that crosses p)")
def one_extra_token(logits, p):
    return _nucleus(logits, p, lambda cum, probs: (cum - probs) - torch.cat(
        [torch.zeros_like(probs[..., :1]), probs[..., :-1]], dim=-1) < p)


@misconception("top_p_filter", "breaks ties by the higher index first")
def ties_higher_index(logits, p):
    return _nucleus(logits, p, lambda cum, probs: cum - probs < p, tie_lower_first=False)


@misconception("top_p_filter", "sorts ascending: accumulates the least likely tokens first")
def ascending(logits, p):
    return _nucleus(logits, p, lambda cum, probs: cum - probs < p, descending=False)


@misconception("top_p_filter", "accumulates exp(logits) instead of normalised probabilities")
def unnormalised(logits, p):
    weights = torch.exp(logits - logits.max(dim=-1, keepdim=True).values)
    sorted_w, order = torch.sort(weights, dim=-1, descending=True, stable=True)
    keep_sorted = sorted_w.cumsum(dim=-1) - sorted_w < p
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    return logits.masked_fill(~keep, NEG_INF)


@misconception("top_p_filter", "forgets to map the keep-mask back from sorted order to vocabulary order")
def mask_left_sorted(logits, p):
    sorted_probs, _ = torch.sort(torch.softmax(logits, dim=-1), dim=-1, descending=True, stable=True)
    keep_sorted = sorted_probs.cumsum(dim=-1) - sorted_probs < p
    return logits.masked_fill(~keep_sorted, NEG_INF)


@rewrite("top_p_filter", "per-row Python loop over sorted(range(V), key=(-prob, index)) accumulating the mass")
def python_rows(logits, p):
    probs = torch.softmax(logits, dim=-1).reshape(-1, logits.shape[-1])
    keep = torch.zeros_like(probs, dtype=torch.bool)
    for row, prob in enumerate(probs.tolist()):
        mass = 0.0
        for i in sorted(range(len(prob)), key=lambda j: (-prob[j], j)):
            if mass >= p:
                break
            keep[row, i] = True
            mass += prob[i]
    return torch.where(keep.reshape(logits.shape), logits, torch.full_like(logits, NEG_INF))


@rewrite("top_p_filter", "pairwise 'ranked before' matrix: keep token j iff the mass ranked before it is < p")
def pairwise_mass_before(logits, p):
    probs = torch.softmax(logits, dim=-1)
    pi, pj = probs.unsqueeze(-1), probs.unsqueeze(-2)                  # [..., V, 1] (i) and [..., 1, V] (j)
    index = torch.arange(logits.shape[-1])
    lower = (index.unsqueeze(-1) < index.unsqueeze(-2))                # i < j
    before = (pi > pj) | ((pi == pj) & lower)                          # i ranked before j
    mass_before = (pi * before).sum(dim=-2)                            # [..., V]
    return logits.masked_fill(mass_before >= p, NEG_INF)
