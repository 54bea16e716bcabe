"""Known mistakes in ``fisher_vector_product`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("fisher_vector_product", "forgets the damping term")
def no_damping(mean_kl, theta, v, damping=0.0):
    theta = theta.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(mean_kl(theta), theta, create_graph=True)
    (hv,) = torch.autograd.grad(g @ v, theta)
    return hv


@misconception("fisher_vector_product", "outer product of the KL's gradient, g (g.v) (0 at theta_old, where g = 0)")
def gradient_outer_product(mean_kl, theta, v, damping=0.0):
    theta = theta.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(mean_kl(theta), theta)
    return g * (g @ v) + damping * v


@misconception("fisher_vector_product",
               "finite difference of gradients (g(theta + 1e-3 v) - g(theta)) / 1e-3 instead of exact double backward")
def finite_difference(mean_kl, theta, v, damping=0.0):
    def grad_at(t):
        t = t.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(mean_kl(t), t)
        return g
    h = 1e-3
    return (grad_at(theta + h * v) - grad_at(theta)) / h + damping * v


@misconception("fisher_vector_product",
               "second backward without create_graph=True: the gradient has no graph and autograd raises")
def no_create_graph(mean_kl, theta, v, damping=0.0):
    theta = theta.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(mean_kl(theta), theta)
    (hv,) = torch.autograd.grad(g @ v, theta)
    return hv + damping * v


@misconception("fisher_vector_product", "adds damping times theta instead of damping times v")
def damps_theta(mean_kl, theta, v, damping=0.0):
    t = theta.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(mean_kl(t), t, create_graph=True)
    (hv,) = torch.autograd.grad(g @ v, t)
    return hv + damping * theta


@misconception("fisher_vector_product", "keeps only the Hessian's diagonal: diag(H) * v (a diagonal approximation)")
def diagonal_only(mean_kl, theta, v, damping=0.0):
    t = theta.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(mean_kl(t), t, create_graph=True)
    diag = torch.stack([torch.autograd.grad(g[i], t, retain_graph=True)[0][i] for i in range(t.shape[0])])
    return diag * v + damping * v


@rewrite("fisher_vector_product", "torch.autograd.functional.hvp")
def functional_hvp(mean_kl, theta, v, damping=0.0):
    _, hv = torch.autograd.functional.hvp(mean_kl, theta.detach(), v)
    return hv + damping * v


@rewrite("fisher_vector_product", "forms the full Hessian with torch.autograd.functional.hessian and multiplies")
def explicit_hessian(mean_kl, theta, v, damping=0.0):
    H = torch.autograd.functional.hessian(mean_kl, theta.detach())
    return H @ v + damping * v
