"""Known mistakes in ``value_iteration`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _backup(P, R, V, gamma):
    return R + gamma * torch.einsum("sat,t->sa", P, V)


def _sweeps(P, R, gamma, tol, max_iters, reduce=lambda Q: Q.max(dim=1).values):
    V = torch.zeros(P.shape[0], dtype=P.dtype)
    for _ in range(max_iters):
        V_new = reduce(_backup(P, R, V, gamma))
        converged = (V_new - V).abs().max() < tol
        V = V_new
        if converged:
            break
    return V


def _first_best(Q):
    best = Q.max(dim=1, keepdim=True).values
    return F.one_hot((Q >= best - 1e-9).long().argmax(dim=1), Q.shape[1]).to(Q.dtype)


@misconception("value_iteration", "breaks ties towards the highest action index")
def ties_to_highest_index(P, R, gamma, tol=1e-10, max_iters=10_000):
    V = _sweeps(P, R, gamma, tol, max_iters)
    Q = _backup(P, R, V, gamma)
    flipped = torch.flip(Q, dims=[1])
    action = Q.shape[1] - 1 - flipped.argmax(dim=1)
    return V, F.one_hot(action, Q.shape[1]).to(V.dtype)


@misconception("value_iteration", "marks every tied action: greedy_pi = (Q == max Q), several 1s in a row")
def marks_all_ties(P, R, gamma, tol=1e-10, max_iters=10_000):
    V = _sweeps(P, R, gamma, tol, max_iters)
    Q = _backup(P, R, V, gamma)
    return V, (Q == Q.max(dim=1, keepdim=True).values).to(V.dtype)


@misconception("value_iteration", "inverted stopping test (stops while the change is still above tol): one sweep")
def inverted_stopping_test(P, R, gamma, tol=1e-10, max_iters=10_000):
    V = torch.zeros(P.shape[0], dtype=P.dtype)
    for _ in range(max_iters):
        V_new = _backup(P, R, V, gamma).max(dim=1).values
        changed = (V_new - V).abs().max()
        V = V_new
        if changed > tol:
            break
    return V, _first_best(_backup(P, R, V, gamma))


@misconception("value_iteration", "greedy policy w.r.t. the immediate reward R instead of Q = R + gamma P V*")
def myopic_policy(P, R, gamma, tol=1e-10, max_iters=10_000):
    V = _sweeps(P, R, gamma, tol, max_iters)
    return V, _first_best(R)


@misconception("value_iteration", "averages over actions instead of maximising (evaluates the uniform policy)")
def mean_backup(P, R, gamma, tol=1e-10, max_iters=10_000):
    V = _sweeps(P, R, gamma, tol, max_iters, reduce=lambda Q: Q.mean(dim=1))
    return V, _first_best(_backup(P, R, V, gamma))


@misconception("value_iteration", "returns the greedy actions as indices [S] instead of a one-hot [S, A] policy")
def returns_indices(P, R, gamma, tol=1e-10, max_iters=10_000):
    V = _sweeps(P, R, gamma, tol, max_iters)
    return V, _backup(P, R, V, gamma).argmax(dim=1)


@misconception("value_iteration", "off by one: does max_iters + 1 sweeps (while k <= max_iters)")
def one_sweep_too_many(P, R, gamma, tol=1e-10, max_iters=10_000):
    V = _sweeps(P, R, gamma, tol, max_iters + 1)
    return V, _first_best(_backup(P, R, V, gamma))


@rewrite("value_iteration", "Python loops over states and actions, an explicit first-index tie rule")
def loops(P, R, gamma, tol=1e-10, max_iters=10_000):
    S, A = R.shape

    def q(V, s, a):
        return R[s, a] + gamma * torch.dot(P[s, a], V)

    V = torch.zeros(S, dtype=P.dtype)
    for _ in range(max_iters):
        V_new = torch.stack([torch.stack([q(V, s, a) for a in range(A)]).max() for s in range(S)])
        delta = float((V_new - V).abs().max())
        V = V_new
        if delta < tol:
            break
    greedy = torch.zeros(S, A, dtype=P.dtype)
    for s in range(S):
        values = [float(q(V, s, a)) for a in range(A)]
        top = max(values)
        greedy[s, next(a for a in range(A) if values[a] >= top - 1e-9)] = 1.0
    return V, greedy


@rewrite("value_iteration", "reshaped matmul backups; ties resolved by the smallest index among near-maxima")
def reshaped_backups(P, R, gamma, tol=1e-10, max_iters=10_000):
    S, A = R.shape
    flat = P.reshape(S * A, S)
    V = torch.zeros(S, dtype=P.dtype)
    k = 0
    while k < max_iters:
        V_new = (R + gamma * (flat @ V).reshape(S, A)).amax(dim=1)
        k += 1
        done = bool(torch.all((V_new - V).abs() < tol))
        V = V_new
        if done:
            break
    Q = R + gamma * (flat @ V).reshape(S, A)
    candidates = torch.where(Q >= Q.amax(dim=1, keepdim=True) - 1e-9, torch.arange(A), A)
    return V, torch.eye(A, dtype=P.dtype)[candidates.min(dim=1).values]
