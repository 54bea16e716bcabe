"""Known mistakes in ``causal_mask`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("causal_mask", "upper triangle: allows the future (j >= i) instead of the past")
def upper_triangle(T):
    return torch.ones(T, T, dtype=torch.bool).triu()


@misconception("causal_mask", "strict lower triangle: a position may not attend to itself (j < i)")
def excludes_diagonal(T):
    return torch.ones(T, T, dtype=torch.bool).tril(diagonal=-1)


@misconception("causal_mask", "inverted convention: True marks the blocked (future) positions")
def true_means_blocked(T):
    return torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)


@misconception("causal_mask", "returns a 0/1 float mask instead of a bool mask")
def float_mask(T):
    return torch.ones(T, T).tril()


@misconception("causal_mask", "returns an additive float mask (0 allowed, -inf blocked)")
def additive_mask(T):
    return torch.full((T, T), float("-inf")).triu(diagonal=1)


@rewrite("causal_mask", "torch.tril of a bool matrix of ones")
def tril_of_ones(T):
    return torch.tril(torch.ones(T, T, dtype=torch.bool))


@rewrite("causal_mask", "nested Python loops building a list of lists")
def python_loops(T):
    return torch.tensor([[j <= i for j in range(T)] for i in range(T)], dtype=torch.bool)


@rewrite("causal_mask", "negation of the strictly upper triangle")
def not_future(T):
    return ~torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)
