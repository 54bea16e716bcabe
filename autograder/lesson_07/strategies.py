"""Lesson-7 strategies: tabular MDPs and policies, SPD systems, small softmax policies and convex losses.

Tabular objects use lesson 5's notation (``P[S, A, S]``, ``R[S, A]``, ``pi[S, A]``, ``mu0[S]``).
Probabilities are drawn as small integer weights normalised per row, so that a failing case
shrinks to readable fractions; a weight of 0 gives deterministic policies and absorbing states.
Functions the graded code takes as arguments are the callable families of
:mod:`rlgrade.worker.callables`, which cross the sandbox by value.
"""

from __future__ import annotations

import dataclasses

import torch
from hypothesis import assume
from hypothesis import strategies as st

from rlgrade.testing import tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors
from rlgrade.worker.callables import LogisticLoss, QuadraticLoss, SoftmaxPolicyKL

MAX_STATES = 5
MAX_ACTIONS = 4
GAMMAS = (0.0, 0.5, 0.9, 0.95)


@st.composite
def stochastic_rows(draw, rows: int, cols: int, dtype: torch.dtype, *, positive: bool = False):
    """[rows, cols] with rows summing to 1: integer weights in 0..4 (1..4 if ``positive``), normalised;
    a row of zero weights is uniform.

    The weights are one flat list, not a list of filtered rows: that halves the cost of drawing an
    MDP, which dominated the suite's time.
    """
    low = 1 if positive else 0
    flat = draw(st.lists(st.integers(low, 4), min_size=rows * cols, max_size=rows * cols))
    weights = torch.tensor(flat, dtype=torch.float64).reshape(rows, cols)
    weights[weights.sum(dim=1) == 0] = 1.0
    return (weights / weights.sum(dim=1, keepdim=True)).to(dtype)


@st.composite
def mdps(draw, *, dtype: torch.dtype | None = None, gammas=GAMMAS, max_states: int = MAX_STATES,
         max_actions: int = MAX_ACTIONS):
    """{"P", "R", "gamma"}: a random tabular MDP (rewards in [-5, 5])."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n_states, n_actions = draw(st.integers(1, max_states)), draw(st.integers(1, max_actions))
    P = draw(stochastic_rows(n_states * n_actions, n_states, dtype)).reshape(n_states, n_actions, n_states)
    R = draw(tensors((n_states, n_actions), dtype, floats(-5.0, 5.0)))
    return {"P": P, "R": R, "gamma": draw(st.sampled_from(gammas))}


def policies(mdp: dict, *, positive: bool = False):
    """A policy [S, A] for ``mdp`` (deterministic rows allowed unless ``positive``)."""
    n_states, n_actions = mdp["R"].shape
    return stochastic_rows(n_states, n_actions, mdp["R"].dtype, positive=positive)


def start_distributions(mdp: dict):
    """mu0 [S]."""
    return stochastic_rows(1, mdp["R"].shape[0], mdp["R"].dtype).map(lambda m: m[0])


@st.composite
def policy_pairs(draw, *, dtype: torch.dtype | None = None, gammas=GAMMAS):
    """{"P", "R", "pi_old", "pi_new", "mu0", "gamma"}: the arguments of the surrogate / PDL functions."""
    mdp = draw(mdps(dtype=dtype, gammas=gammas))
    return {"P": mdp["P"], "R": mdp["R"], "pi_old": draw(policies(mdp)), "pi_new": draw(policies(mdp)),
            "mu0": draw(start_distributions(mdp)), "gamma": mdp["gamma"]}


def mdp_atol(R: torch.Tensor, gamma: float, dtype: torch.dtype | None = None) -> float:
    """Rounding room for values, advantages and surrogates of an MDP.

    Values are as large as max|R| / (1 - gamma), and the linear solve loses up to another
    factor 1 / (1 - gamma) (the condition number of I - gamma P_pi).
    """
    dtype = dtype or R.dtype
    scale = max(1.0, float(R.detach().double().abs().max())) / (1 - gamma) ** 2
    return tolerance_for(dtype)[1] * scale


def values(P: torch.Tensor, R: torch.Tensor, pi: torch.Tensor, gamma: float) -> torch.Tensor:
    """V^pi in float64 by a direct linear solve (the tests' own computation, independent of the reference)."""
    P, R, pi = P.double(), R.double(), pi.double()
    P_pi = (pi[:, :, None] * P).sum(dim=1)
    R_pi = (pi * R).sum(dim=1)
    return torch.linalg.solve(torch.eye(P.shape[0], dtype=torch.float64) - gamma * P_pi, R_pi)


def expected_return(P, R, pi, mu0, gamma) -> float:
    """J(pi) = mu0 . V^pi, in float64."""
    return float(mu0.double() @ values(P, R, pi, gamma))


# --------------------------------------------------------------------------- linear algebra

@st.composite
def spd_matrices(draw, n: int, dtype: torch.dtype):
    """A symmetric positive-definite [n, n] matrix M M^T + lam I with M in {-2..2}: condition number < ~300."""
    M = torch.tensor(draw(st.lists(st.integers(-2, 2), min_size=n * n, max_size=n * n)), dtype=torch.float64)
    lam = draw(st.sampled_from([0.5, 1.0, 2.0]))
    return (M.reshape(n, n) @ M.reshape(n, n).T + lam * torch.eye(n, dtype=torch.float64)).to(dtype)


@st.composite
def nonzero_vectors(draw, n: int, dtype: torch.dtype, low: float = -5.0, high: float = 5.0, min_norm: float = 0.5):
    """A vector [n] with entries in [low, high] and Euclidean norm >= min_norm."""
    return draw(tensors((n,), dtype, floats(low, high)).filter(lambda v: float(v.double().norm()) >= min_norm))


@st.composite
def spd_systems(draw, *, dtype: torch.dtype | None = None, max_n: int = 6):
    """(A [n, n] SPD, b [n] with |b| >= 0.5)."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n = draw(st.integers(1, max_n))
    return draw(spd_matrices(n, dtype)), draw(nonzero_vectors(n, dtype))


def condition_number(A: torch.Tensor) -> float:
    eig = torch.linalg.eigvalsh(A.double())
    return float(eig.max() / eig.min())


# --------------------------------------------------------------------------- twice-differentiable functions

@st.composite
def softmax_policies(draw, dtype: torch.dtype, *, at_old: bool | None = None):
    """(SoftmaxPolicyKL, theta): a linear softmax policy over N <= 4 states, D <= 3 features, 2-3 actions.

    theta is theta_old itself (where the Hessian is the Fisher matrix) or a point near it.
    """
    n, d, a = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(2, 3))
    X = draw(tensors((n, d), dtype, floats(-2.0, 2.0)))
    theta_old = draw(tensors((a * d,), dtype, floats(-2.0, 2.0)))
    at_old = draw(st.booleans()) if at_old is None else at_old
    theta = theta_old if at_old else theta_old + draw(tensors((a * d,), dtype, floats(-0.5, 0.5)))
    return SoftmaxPolicyKL(X, theta_old, a), theta


@st.composite
def logistic_losses(draw, dtype: torch.dtype, *, max_n: int = 5, max_d: int = 4, d: int | None = None):
    """(LogisticLoss, w): mean binary cross-entropy of X w against 0/1 labels, at a point w."""
    d = d if d is not None else draw(st.integers(1, max_d))
    n = draw(st.integers(1, max_n))
    X = draw(tensors((n, d), dtype, floats(-2.0, 2.0)))
    y = torch.tensor(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=dtype)
    return LogisticLoss(X, y), draw(tensors((d,), dtype, floats(-2.0, 2.0)))


@st.composite
def quadratic_losses(draw, dtype: torch.dtype, *, spd: bool = True, max_n: int = 5):
    """(QuadraticLoss, x): 0.5 x.A x + b.x + c with A SPD (or any symmetric matrix when ``spd`` is False)."""
    n = draw(st.integers(1, max_n))
    if spd:
        A = draw(spd_matrices(n, dtype))
    else:
        M = draw(tensors((n, n), dtype, floats(-3.0, 3.0)))
        A = (M + M.T) / 2
    b = draw(tensors((n,), dtype, floats(-3.0, 3.0)))
    c = draw(floats(-3.0, 3.0))
    return QuadraticLoss(A, b, c), draw(tensors((n,), dtype, floats(-2.0, 2.0)))


@st.composite
def twice_differentiable(draw, dtype: torch.dtype | None = None):
    """(fn, theta, v): a softmax-policy KL, a logistic loss or a quadratic, a point and a direction."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    kind = draw(st.sampled_from(["softmax_kl", "softmax_kl", "logistic", "quadratic"]))
    if kind == "softmax_kl":
        fn, theta = draw(softmax_policies(dtype))
    elif kind == "logistic":
        fn, theta = draw(logistic_losses(dtype))
    else:
        fn, theta = draw(quadratic_losses(dtype, spd=False))
    return fn, theta, draw(tensors(tuple(theta.shape), dtype, floats(-2.0, 2.0)))


def explicit_hessian(fn, theta: torch.Tensor) -> torch.Tensor:
    """The full Hessian of ``fn`` at ``theta`` (torch.autograd.functional.hessian), in theta's dtype."""
    return torch.autograd.functional.hessian(fn, theta.detach())


def hvp_atol(H: torch.Tensor, v: torch.Tensor) -> float:
    """Rounding room for H v: the dtype's atol times the size of the terms summed."""
    return tolerance_for(v.dtype)[1] * max(1.0, float((H.double().abs() @ v.double().abs()).max()))


def in_float64(fn):
    """The same callable family with its tensor fields in float64 (for the tests' own exact computations)."""
    return dataclasses.replace(fn, **{f.name: getattr(fn, f.name).double() for f in dataclasses.fields(fn)
                                      if isinstance(getattr(fn, f.name), torch.Tensor)
                                      and getattr(fn, f.name).is_floating_point()})


# --------------------------------------------------------------------------- TRPO

def softmax_fisher(fn: SoftmaxPolicyKL) -> torch.Tensor:
    """The Fisher matrix of a linear softmax policy at theta_old (the mean KL's Hessian there), in closed form.

    With W = theta.view(A, D) and pi_i = softmax(W x_i): F = mean_i (diag(pi_i) - pi_i pi_i^T) (x) x_i x_i^T.
    """
    X, n_actions = fn.X.double(), fn.n_actions
    probs = torch.softmax(X @ fn.theta_old.double().view(n_actions, -1).T, dim=-1)           # (N, A)
    cov = torch.diag_embed(probs) - probs[:, :, None] * probs[:, None, :]                   # (N, A, A)
    F = torch.einsum("nab,nd,ne->adbe", cov, X, X) / X.shape[0]                             # (A, D, A, D)
    return F.reshape(n_actions * X.shape[1], n_actions * X.shape[1])


@st.composite
def fisher_matrices(draw, dtype: torch.dtype):
    """An SPD "Fisher" [n, n]: a random SPD matrix, or a softmax policy's Fisher plus 0.1 I (damped, as in TRPO)."""
    if draw(st.booleans()):
        return draw(spd_matrices(draw(st.integers(1, 5)), dtype))
    fn, _ = draw(softmax_policies(torch.float64, at_old=True))
    fisher = softmax_fisher(fn)
    return (fisher + 0.1 * torch.eye(fisher.shape[0], dtype=torch.float64)).to(dtype)


@st.composite
def trpo_problems(draw, *, dtype: torch.dtype | None = None, cg_iters=(1, 2, 3, 10)):
    """{"theta", "grad", "F", "max_kl", "cg_iters"}; the test wraps F as fvp = MatVec(F)."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    F = draw(fisher_matrices(dtype))
    n = F.shape[0]
    return {"theta": draw(tensors((n,), dtype, floats(-3.0, 3.0))), "grad": draw(nonzero_vectors(n, dtype)),
            "F": F, "max_kl": draw(st.sampled_from([1e-3, 1e-2, 0.05])),
            "cg_iters": draw(st.sampled_from(cg_iters))}


# --------------------------------------------------------------------------- line search

@st.composite
def line_search_problems(draw, *, dtype: torch.dtype | None = None):
    """{"f", "x", "fullstep", "expected_improve", "max_backtracks", "accept_ratio"} on a convex loss.

    The full step is a (Newton or gradient) descent direction times a scale that may overshoot, and
    expected_improve = -grad f(x) . fullstep. Cases where a decision (actual > 0, or the ratio test) is
    within rounding of its threshold for some tried fraction are left out: rounding would decide them.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    if draw(st.booleans()):
        fn, x = draw(quadratic_losses(dtype))
    else:
        fn, x = draw(logistic_losses(dtype))
    exact = in_float64(fn)
    if isinstance(fn, QuadraticLoss):  # gradient A x + b; Newton direction -A^-1 (A x + b)
        g = exact.A @ x.double() + exact.b
        newton = -torch.linalg.solve(exact.A, g)
    else:
        x64 = x.detach().double().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(exact(x64), x64)
        newton = None
    direction = newton if newton is not None and draw(st.booleans()) else -g
    scale = draw(st.sampled_from([0.25, 1.0, 1.9, 4.0, 30.0]))
    fullstep = (scale * direction).to(dtype)
    expected_improve = float(-(g @ fullstep.double()))
    max_backtracks = draw(st.sampled_from([1, 3, 10]))
    accept_ratio = draw(st.sampled_from([0.1, 0.5]))
    fx = float(exact(x.double()))
    margin = 1e-3 * (1.0 + abs(fx))
    for k in range(max_backtracks):
        frac = 0.5 ** k
        actual = fx - float(exact((x + frac * fullstep).double()))
        assume(abs(actual) >= margin and abs(actual - accept_ratio * expected_improve * frac) >= margin)
    assume(expected_improve > 1e-3)
    return {"f": fn, "x": x, "fullstep": fullstep, "expected_improve": expected_improve,
            "max_backtracks": max_backtracks, "accept_ratio": accept_ratio}
