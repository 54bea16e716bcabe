"""Known mistakes in ``trpo_step`` and independent correct rewrites (self-contained: each has its own CG)."""

import math

import torch

from rlgrade.testing import misconception, rewrite


def _cg(Avp, b, iters, tol=1e-10):
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < tol:
            break
        Ap = Avp(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


@misconception("trpo_step", "drops the 2: scales by sqrt(max_kl / s.F s), so the step's KL is max_kl / 2")
def missing_two(theta, grad, fvp, max_kl, cg_iters=10):
    s = _cg(fvp, grad, cg_iters)
    return theta + torch.sqrt(max_kl / (s @ fvp(s))) * s


@misconception("trpo_step", "normalises with the Euclidean norm: sqrt(2 max_kl / s.s)")
def euclidean_norm(theta, grad, fvp, max_kl, cg_iters=10):
    s = _cg(fvp, grad, cg_iters)
    return theta + torch.sqrt(2 * max_kl / (s @ s)) * s


@misconception("trpo_step", "steps along the plain gradient g (no CG), scaled to the KL boundary")
def vanilla_gradient(theta, grad, fvp, max_kl, cg_iters=10):
    return theta + torch.sqrt(2 * max_kl / (grad @ fvp(grad))) * grad


@misconception("trpo_step", "moves downhill: theta - step (treats the surrogate as a loss)")
def downhill(theta, grad, fvp, max_kl, cg_iters=10):
    s = _cg(fvp, grad, cg_iters)
    return theta - torch.sqrt(2 * max_kl / (s @ fvp(s))) * s


@misconception("trpo_step", "forgets the square root: scales by 2 max_kl / s.F s")
def no_square_root(theta, grad, fvp, max_kl, cg_iters=10):
    s = _cg(fvp, grad, cg_iters)
    return theta + (2 * max_kl / (s @ fvp(s))) * s


@misconception("trpo_step", "ignores cg_iters and always runs 10 CG iterations")
def ignores_cg_iters(theta, grad, fvp, max_kl, cg_iters=10):
    s = _cg(fvp, grad, 10)
    return theta + torch.sqrt(2 * max_kl / (s @ fvp(s))) * s


@misconception("trpo_step", "updates theta in place (theta.add_(step))")
def in_place(theta, grad, fvp, max_kl, cg_iters=10):
    s = _cg(fvp, grad, cg_iters)
    return theta.add_(torch.sqrt(2 * max_kl / (s @ fvp(s))) * s)


@rewrite("trpo_step", "scale from s.g instead of s.F s (equal for a CG iterate started at 0); math.sqrt of a float")
def scale_from_s_dot_g(theta, grad, fvp, max_kl, cg_iters=10):
    s = _cg(fvp, grad, cg_iters)
    beta = math.sqrt(2.0 * max_kl / float(s @ grad))
    return theta + beta * s


@rewrite("trpo_step",
         "Lagrange multiplier form: lambda = sqrt(s.F s / (2 max_kl)), step = s / lambda; CG written with a while loop")
def lagrange_multiplier(theta, grad, fvp, max_kl, cg_iters=10):
    x = torch.zeros_like(grad)
    r = grad.clone()
    d = grad.clone()
    k = 0
    while k < cg_iters and torch.dot(r, r) >= 1e-10:
        Ad = fvp(d)
        a = torch.dot(r, r) / torch.dot(d, Ad)
        x = x + a * d
        r_next = r - a * Ad
        d = r_next + torch.dot(r_next, r_next) / torch.dot(r, r) * d
        r = r_next
        k += 1
    lam = torch.sqrt(torch.dot(x, fvp(x)) / (2 * max_kl))
    return theta + x / lam
