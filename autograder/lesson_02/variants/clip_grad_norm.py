"""Known mistakes in ``clip_grad_norm`` and independent correct rewrites.

An in-place variant (g.mul_(scale)) is in ``_needs_framework.py``: the worker's mutation check does not
look inside lists yet, so no hidden test can see it.
"""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("clip_grad_norm", "clips each tensor by its own norm instead of the global norm")
def per_tensor_clipping(grads, max_norm):
    clipped = []
    for g in grads:
        clipped.append(g * torch.clamp(max_norm / (g.norm() + 1e-6), max=1.0))
    total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    return clipped, total_norm


@misconception("clip_grad_norm", "always rescales to max_norm (no min(1, .)): small gradients are scaled up")
def always_rescales(grads, max_norm):
    total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = max_norm / (total_norm + 1e-6)
    return [g * scale for g in grads], total_norm


@misconception("clip_grad_norm", "returns the norm after clipping instead of before")
def norm_after_clipping(grads, max_norm):
    total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    clipped = [g * scale for g in grads]
    return clipped, torch.sqrt(sum((g ** 2).sum() for g in clipped))


@misconception("clip_grad_norm", "normalises g / norm then multiplies by min(norm, max_norm): without the 1e-6, "
               "all-zero gradients give 0/0 = NaN")
def normalise_then_rescale(grads, max_norm):
    total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    target = torch.clamp(total_norm, max=max_norm)
    return [g / total_norm * target for g in grads], total_norm


@misconception("clip_grad_norm", "adds up the per-tensor norms instead of taking the root of the summed squares")
def sum_of_norms(grads, max_norm):
    total_norm = sum(g.norm() for g in grads)
    scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    return [g * scale for g in grads], total_norm


@misconception("clip_grad_norm", "forgets the square root: compares the squared norm with max_norm")
def squared_norm(grads, max_norm):
    total_norm = sum((g ** 2).sum() for g in grads)
    scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    return [g * scale for g in grads], total_norm


@rewrite("clip_grad_norm", "flattens and concatenates everything, torch.linalg.vector_norm, Python if for the scale")
def concatenated(grads, max_norm):
    flat = torch.cat([g.reshape(-1) for g in grads])
    total_norm = torch.linalg.vector_norm(flat)
    coef = max_norm / (float(total_norm) + 1e-6)
    if coef < 1.0:
        return [g * coef for g in grads], total_norm
    return [g.clone() for g in grads], total_norm


@rewrite("clip_grad_norm", "norm of the stacked per-tensor norms (as torch.nn.utils does), torch.minimum for the scale")
def norm_of_norms(grads, max_norm):
    norms = torch.stack([torch.linalg.vector_norm(g) for g in grads])
    total_norm = torch.linalg.vector_norm(norms)
    scale = torch.minimum(max_norm / (total_norm + 1e-6), torch.ones((), dtype=total_norm.dtype))
    return [g * scale for g in grads], total_norm


@misconception("clip_grad_norm", "scales the gradients in place (g.mul_(scale)), as torch.nn.utils.clip_grad_norm_ does")
def scales_in_place(grads, max_norm):
    total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale)
    return grads, total_norm
