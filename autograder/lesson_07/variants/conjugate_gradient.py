"""Known mistakes in ``conjugate_gradient`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("conjugate_gradient", "r = b without a copy, then r -= alpha Ap in place: the caller's b changes")
def aliases_b(Avp, b, iters=10, tol=1e-10):
    x = torch.zeros_like(b)
    r = b
    p = b.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < tol:
            break
        Ap = Avp(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        r -= alpha * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


@misconception("conjugate_gradient", "never checks the tolerance: 0/0 = NaN once the residual is exactly 0 (or b = 0)")
def no_tolerance_check(Avp, b, iters=10, tol=1e-10):
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        Ap = Avp(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


@misconception("conjugate_gradient", "inverts the beta ratio: p = r_new + (r.r / r_new.r_new) p")
def inverted_beta(Avp, b, iters=10, tol=1e-10):
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
        p = r + (rr / rr_new) * p
        rr = rr_new
    return x


@misconception("conjugate_gradient",
               "steps along the residual r instead of the search direction p (steepest descent's x update)")
def steps_along_residual(Avp, b, iters=10, tol=1e-10):
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < tol:
            break
        Ap = Avp(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * r
        r = r - alpha * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


@misconception("conjugate_gradient", "compares the residual norm |r| (not r.r) with tol")
def norm_tolerance(Avp, b, iters=10, tol=1e-10):
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        if torch.sqrt(rr) < tol:
            break
        Ap = Avp(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


@misconception("conjugate_gradient", "runs iters + 1 iterations (for i in range(iters + 1))")
def one_extra_iteration(Avp, b, iters=10, tol=1e-10):
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters + 1):
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


@misconception("conjugate_gradient", "updates the direction with the old residual (p = r + beta p before r is updated)")
def stale_direction(Avp, b, iters=10, tol=1e-10):
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < tol:
            break
        Ap = Avp(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        r_new = r - alpha * Ap
        rr_new = r_new @ r_new
        p = r + (rr_new / rr) * p
        r, rr = r_new, rr_new
    return x


@rewrite("conjugate_gradient", "recomputes the residual b - A x from scratch each iteration; while loop with a counter")
def recomputed_residual(Avp, b, iters=10, tol=1e-10):
    x = torch.zeros_like(b)
    r = b - 0.0 * b
    p = r.clone()
    k = 0
    while k < iters and torch.dot(r, r) >= tol:
        Ap = Avp(p)
        alpha = torch.dot(r, r) / torch.dot(p, Ap)
        x = x + alpha * p
        r_new = b - Avp(x)
        beta = torch.dot(r_new, r_new) / torch.dot(r, r)
        p = r_new + beta * p
        r = r_new
        k += 1
    return x


@rewrite("conjugate_gradient", "Hestenes-Stiefel form of beta and alpha = p.r / p.Ap (equal for CG iterates)")
def hestenes_stiefel(Avp, b, iters=10, tol=1e-10):
    x = b.new_zeros(b.shape)
    r = b.detach().clone()
    p = r.clone()
    for _ in range(iters):
        if (r * r).sum() < tol:
            break
        Ap = Avp(p)
        pAp = (p * Ap).sum()
        alpha = (p * r).sum() / pAp
        x = x + alpha * p
        r = r - alpha * Ap
        beta = -(r * Ap).sum() / pAp
        p = r + beta * p
    return x
