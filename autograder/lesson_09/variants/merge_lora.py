"""Known mistakes in ``merge_lora`` and independent correct rewrites."""

import math

import torch

from rlgrade.testing import misconception, rewrite


@misconception("merge_lora", "merges in place (W.add_), overwriting the pretrained weights")
def merges_in_place(W, A, B, alpha):
    return W.add_(B @ A, alpha=alpha / A.shape[0])


@misconception("merge_lora", "scales the update by alpha instead of alpha / r")
def scale_alpha(W, A, B, alpha):
    return W + alpha * (B @ A)


@misconception("merge_lora", "adds the transposed update A^T B^T (wrong values for square W, wrong shape otherwise)")
def transposed_update(W, A, B, alpha):
    return W + alpha / A.shape[0] * (A.T @ B.T)


@misconception("merge_lora", "scales by alpha / sqrt(r) (rsLoRA) instead of alpha / r")
def scale_rslora(W, A, B, alpha):
    return W + alpha / math.sqrt(A.shape[0]) * (B @ A)


@misconception("merge_lora", "returns only the update (alpha / r) B A, without W")
def update_only(W, A, B, alpha):
    return alpha / A.shape[0] * (B @ A)


@rewrite("merge_lora", "sums the r rank-one outer products B[:, k] A[k, :] in a loop")
def rank_one_sum(W, A, B, alpha):
    merged = W.clone()
    scale = alpha / A.shape[0]
    for k in range(A.shape[0]):
        merged = merged + scale * torch.outer(B[:, k], A[k, :])
    return merged


@rewrite("merge_lora", "torch.addmm(W, B, A, alpha=alpha / r)")
def addmm(W, A, B, alpha):
    return torch.addmm(W, B, A, beta=1, alpha=alpha / A.size(0))
