"""Known mistakes in ``lora_forward`` and independent correct rewrites."""

import math

import torch

from rlgrade.testing import misconception, rewrite


@misconception("lora_forward", "scales the update by alpha instead of alpha / r")
def scale_alpha(x, W, A, B, alpha):
    return x @ W.T + alpha * (x @ A.T) @ B.T


@misconception("lora_forward", "scales by alpha / sqrt(r) (rsLoRA) instead of alpha / r")
def scale_rslora(x, W, A, B, alpha):
    return x @ W.T + alpha / math.sqrt(A.shape[0]) * (x @ A.T) @ B.T


@misconception("lora_forward", "scales by r / alpha (the ratio upside down)")
def scale_inverted(x, W, A, B, alpha):
    return x @ W.T + A.shape[0] / alpha * (x @ A.T) @ B.T


@misconception("lora_forward", "returns only the adapter's update, without the base layer x W^T")
def forgets_base(x, W, A, B, alpha):
    return alpha / A.shape[0] * (x @ A.T) @ B.T


@misconception("lora_forward", "detaches the frozen base weight W, so no gradient flows to it")
def detaches_base(x, W, A, B, alpha):
    return x @ W.detach().T + alpha / A.shape[0] * (x @ A.T) @ B.T


@misconception("lora_forward", "multiplies by W instead of W^T (only runs when O = I, with the wrong values)")
def untransposed_weight(x, W, A, B, alpha):
    return x @ W + alpha / A.shape[0] * (x @ A.T) @ B.T


@misconception("lora_forward", "uses torch.mm: only works for 2-D x, fails for a single vector or a [B, T, I] batch")
def two_dims_only(x, W, A, B, alpha):
    return torch.mm(x, W.T) + alpha / A.shape[0] * torch.mm(torch.mm(x, A.T), B.T)


@rewrite("lora_forward", "merges first: x (W + (alpha / r) B A)^T")
def through_merged_weight(x, W, A, B, alpha):
    delta = B @ A * (alpha / A.shape[0])
    return x @ (W + delta).T


@rewrite("lora_forward", "torch.einsum over the feature and rank indices, with F.linear for the base layer")
def einsum_and_linear(x, W, A, B, alpha):
    rank = A.size(0)
    hidden = torch.einsum("...i,ri->...r", x, A)
    update = torch.einsum("...r,or->...o", hidden, B)
    return torch.nn.functional.linear(x, W) + update * alpha / rank
