"""Known mistakes in ``surrogate_advantage`` and independent correct rewrites (self-contained: no reference import)."""

import torch

from rlgrade.testing import misconception, rewrite


def _values(P, R, pi, gamma):
    P_pi = torch.einsum("sa,sat->st", pi, P)
    R_pi = (pi * R).sum(dim=1)
    return torch.linalg.solve(torch.eye(P.shape[0], dtype=P.dtype) - gamma * P_pi, R_pi)


def _advantages(P, R, pi, gamma):
    V = _values(P, R, pi, gamma)
    return R + gamma * P @ V - V[:, None]


def _occupancy(P, pi, mu0, gamma):
    P_pi = torch.einsum("sa,sat->st", pi, P)
    return (1 - gamma) * torch.linalg.solve((torch.eye(P.shape[0], dtype=P.dtype) - gamma * P_pi).T, mu0)


@misconception("surrogate_advantage",
               "uses the new policy's occupancy d^pi_new (that is the exact performance difference)")
def new_state_distribution(P, R, pi_old, pi_new, mu0, gamma):
    d = _occupancy(P, pi_new, mu0, gamma)
    return (d * (pi_new * _advantages(P, R, pi_old, gamma)).sum(dim=1)).sum() / (1 - gamma)


@misconception("surrogate_advantage", "forgets the 1/(1-gamma) factor")
def no_horizon_factor(P, R, pi_old, pi_new, mu0, gamma):
    d = _occupancy(P, pi_old, mu0, gamma)
    return (d * (pi_new * _advantages(P, R, pi_old, gamma)).sum(dim=1)).sum()


@misconception("surrogate_advantage", "weights the states by mu0 only (the first step) instead of d^pi_old")
def start_states_only(P, R, pi_old, pi_new, mu0, gamma):
    return (mu0 * (pi_new * _advantages(P, R, pi_old, gamma)).sum(dim=1)).sum() / (1 - gamma)


@misconception("surrogate_advantage",
               "pushes the occupancy backwards: solves (I - gamma P_pi) d = (1-gamma) mu0, no transpose")
def untransposed_occupancy(P, R, pi_old, pi_new, mu0, gamma):
    P_old = torch.einsum("sa,sat->st", pi_old, P)
    d = (1 - gamma) * torch.linalg.solve(torch.eye(P.shape[0], dtype=P.dtype) - gamma * P_old, mu0)
    return (d * (pi_new * _advantages(P, R, pi_old, gamma)).sum(dim=1)).sum() / (1 - gamma)


@misconception("surrogate_advantage", "averages Q^pi_old instead of the advantage A^pi_old (no baseline)")
def q_instead_of_advantage(P, R, pi_old, pi_new, mu0, gamma):
    d = _occupancy(P, pi_old, mu0, gamma)
    Q = R + gamma * P @ _values(P, R, pi_old, gamma)
    return (d * (pi_new * Q).sum(dim=1)).sum() / (1 - gamma)


@misconception("surrogate_advantage", "uses the new policy's advantages A^pi_new (whose pi_new-average is always 0)")
def new_policy_advantages(P, R, pi_old, pi_new, mu0, gamma):
    d = _occupancy(P, pi_old, mu0, gamma)
    return (d * (pi_new * _advantages(P, R, pi_new, gamma)).sum(dim=1)).sum() / (1 - gamma)


@rewrite("surrogate_advantage",
         "unnormalised visitation mu0^T (I - gamma P_old)^-1 via an explicit inverse; no 1/(1-gamma)")
def unnormalised_visitation(P, R, pi_old, pi_new, mu0, gamma):
    n_states = P.shape[0]
    P_old = (pi_old[:, :, None] * P).sum(dim=1)
    inv = torch.linalg.inv(torch.eye(n_states, dtype=P.dtype) - gamma * P_old)
    rho = mu0 @ inv                                   # sum_t gamma^t Pr(s_t = s)
    V = inv @ (pi_old * R).sum(dim=1)
    A = R + gamma * torch.einsum("sat,t->sa", P, V) - V[:, None]
    return rho @ (pi_new * A).sum(dim=1)


@rewrite("surrogate_advantage", "loops over states: sum_s d(s) (pi_new(.|s) . Q(s, .) - V(s)), using sum_a pi_new = 1")
def state_loop(P, R, pi_old, pi_new, mu0, gamma):
    V = _values(P, R, pi_old, gamma)
    d = _occupancy(P, pi_old, mu0, gamma)
    total = torch.zeros((), dtype=P.dtype)
    for s in range(P.shape[0]):
        q_s = R[s] + gamma * P[s] @ V                 # (A,)
        total = total + d[s] * (pi_new[s] @ q_s - V[s])   # sum_a pi_new(a|s) = 1
    return total / (1 - gamma)
