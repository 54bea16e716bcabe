"""Known mistakes in ``linear_backward`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("linear_backward", "grad_W = x^T G, the transpose ([I, O] instead of [O, I])")
def transposed_weight_gradient(x, W, grad_out):
    return grad_out @ W, x.T @ grad_out, grad_out.sum(dim=0)


@misconception("linear_backward", "averages grad_b over the batch (mean instead of sum)")
def bias_gradient_mean(x, W, grad_out):
    return grad_out @ W, grad_out.T @ x, grad_out.mean(dim=0)


@misconception("linear_backward", "averages grad_W over the batch (divides G^T x by N)")
def weight_gradient_mean(x, W, grad_out):
    return grad_out @ W, grad_out.T @ x / x.shape[0], grad_out.sum(dim=0)


@misconception("linear_backward", "returns the per-sample bias gradients G ([N, O]) instead of their sum")
def per_sample_bias_gradient(x, W, grad_out):
    return grad_out @ W, grad_out.T @ x, grad_out.clone()


@misconception("linear_backward", "grad_x = G W^T (transposes W as in the forward pass; only runs when O = I)")
def transposed_input_gradient(x, W, grad_out):
    return grad_out @ W.T, grad_out.T @ x, grad_out.sum(dim=0)


@misconception("linear_backward", "swaps the order of the returned gradients: (grad_W, grad_x, grad_b)")
def swapped_outputs(x, W, grad_out):
    return grad_out.T @ x, grad_out @ W, grad_out.sum(dim=0)


@rewrite("linear_backward", "einsum over explicit indices for all three gradients")
def einsum_form(x, W, grad_out):
    grad_x = torch.einsum("no,oi->ni", grad_out, W)
    grad_W = torch.einsum("no,ni->oi", grad_out, x)
    grad_b = torch.einsum("no->o", grad_out)
    return grad_x, grad_W, grad_b


@rewrite("linear_backward", "a loop over samples accumulating outer products G_n x_n^T and G_n")
def per_sample_loop(x, W, grad_out):
    grad_W = torch.zeros_like(W)
    grad_b = torch.zeros(W.shape[0], dtype=x.dtype)
    rows = []
    for x_n, g_n in zip(x, grad_out):
        rows.append(W.T @ g_n)
        grad_W = grad_W + torch.outer(g_n, x_n)
        grad_b = grad_b + g_n
    return torch.stack(rows), grad_W, grad_b
