"""Known mistakes in ``perplexity`` and independent correct rewrites."""

import math

import torch

from rlgrade.testing import misconception, rewrite


def _m(token_logps, mask):
    return mask.to(token_logps.dtype)


@misconception("perplexity", "averages per sequence, then over sequences (sequence-weighted, not token-weighted)")
def sequence_mean(token_logps, mask):
    m = _m(token_logps, mask)
    per_row = (token_logps * m).sum(dim=1) / m.sum(dim=1)
    return torch.exp(-per_row[m.sum(dim=1) > 0].mean())


@misconception("perplexity", "ignores the mask: averages over every position, padding included")
def ignores_mask(token_logps, mask):
    return torch.exp(-token_logps.mean())


@misconception("perplexity", "exp(+mean log-prob): forgets the minus sign")
def wrong_sign(token_logps, mask):
    m = _m(token_logps, mask)
    return torch.exp((token_logps * m).sum() / m.sum())


@misconception("perplexity", "uses base 2: 2 ** (-mean log-prob)")
def base_two(token_logps, mask):
    m = _m(token_logps, mask)
    return 2.0 ** (-(token_logps * m).sum() / m.sum())


@misconception("perplexity", "geometric mean of probabilities via their product: underflows to 0, giving inf")
def product_of_probabilities(token_logps, mask):
    m = mask.bool()
    probs = torch.where(m, token_logps.exp(), torch.ones_like(token_logps))
    return probs.prod() ** (-1.0 / m.sum())


@misconception("perplexity", "multiplies by the mask as given: a float64 mask promotes a float32 result")
def mask_promotes(token_logps, mask):
    m = mask if mask.is_floating_point() else mask.to(token_logps.dtype)
    return torch.exp(-(token_logps * m).sum() / m.sum())


@misconception("perplexity", "clamps the token count to at least 1: an empty mask gives 1 instead of NaN")
def clamped_count(token_logps, mask):
    m = _m(token_logps, mask)
    return torch.exp(-(token_logps * m).sum() / m.sum().clamp(min=1.0))


@misconception("perplexity", "arithmetic mean of 1/p instead of exp of the mean negative log-prob")
def mean_inverse_probability(token_logps, mask):
    m = _m(token_logps, mask)
    return (torch.exp(-token_logps) * m).sum() / m.sum()


@rewrite("perplexity", "boolean indexing of the valid log-probs, then .mean() (NaN when empty)")
def boolean_index(token_logps, mask):
    valid = token_logps[mask.bool()]
    return torch.exp(-valid.mean())


@rewrite("perplexity", "Python loop over rows accumulating a float64 sum and count, via math.exp")
def python_loops(token_logps, mask):
    total, count = 0.0, 0.0
    for row, keep in zip(token_logps.tolist(), mask.tolist()):
        for value, valid in zip(row, keep):
            if valid:
                total += value
                count += 1.0
    mean = total / count if count else math.nan
    return torch.tensor(math.exp(-mean) if not math.isnan(mean) else math.nan, dtype=token_logps.dtype)
