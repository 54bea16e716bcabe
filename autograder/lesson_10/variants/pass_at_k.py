"""Known mistakes in ``pass_at_k`` and independent correct rewrites."""

import math
from fractions import Fraction

import torch

from rlgrade.testing import misconception, rewrite


@misconception("pass_at_k", "plugs p = c/n into 1 - (1 - p)^k (biased: it treats the k attempts as independent)")
def biased_plug_in(n, c, k):
    return 1.0 - (1.0 - c / n) ** k


@misconception("pass_at_k", "converts the binomials to float before dividing: inf / inf = nan for large n")
def float_binomials(n, c, k):
    if n - c < k:
        return 1.0
    try:
        return 1.0 - float(math.comb(n - c, k)) / float(math.comb(n, k))
    except OverflowError:
        return math.nan


@misconception("pass_at_k", "runs the product from i = n - c instead of n - c + 1 (one factor too many)")
def product_off_by_one(n, c, k):
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(max(n - c, 1), n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


@misconception("pass_at_k", "returns the fraction correct c / n whatever k is")
def ignores_k(n, c, k):
    return c / n


@misconception("pass_at_k", "lgamma form without the n - c < k guard: lgamma of 0 or a negative integer fails")
def lgamma_without_guard(n, c, k):
    log_ratio = math.lgamma(n - c + 1) - math.lgamma(n - c - k + 1) - math.lgamma(n + 1) + math.lgamma(n - k + 1)
    return 1.0 - math.exp(log_ratio)


@misconception("pass_at_k", "computes with float32 torch.lgamma and returns a 0-dim tensor")
def torch_float32(n, c, k):
    if n - c < k:
        return torch.tensor(1.0)
    t = lambda v: torch.tensor(float(v))
    log_ratio = (torch.lgamma(t(n - c + 1)) - torch.lgamma(t(n - c - k + 1))
                 - torch.lgamma(t(n + 1)) + torch.lgamma(t(n - k + 1)))
    return 1.0 - torch.exp(log_ratio)


@rewrite("pass_at_k", "exact rational arithmetic with math.comb and Fraction, rounded once")
def exact_fraction(n, c, k):
    if n - c < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


@rewrite("pass_at_k", "sum of log1p(-k / i) over the c factors, then -expm1 (guarded lgamma-free log form)")
def log1p_sum(n, c, k):
    if n - c < k:
        return 1.0
    total = sum(math.log1p(-k / i) for i in range(n - c + 1, n + 1))
    return -math.expm1(total)


@rewrite("pass_at_k", "guarded lgamma form (finite, about 9 significant digits at n = 10 000)")
def guarded_lgamma(n, c, k):
    if n - c < k:
        return 1.0
    log_ratio = math.lgamma(n - c + 1) - math.lgamma(n - c - k + 1) - math.lgamma(n + 1) + math.lgamma(n - k + 1)
    return -math.expm1(log_ratio)
