"""Known mistakes in ``discounted_occupancy`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _P_pi(P, pi):
    return torch.einsum("sa,sat->st", pi, P)


@misconception("discounted_occupancy", "pushes mu0 with P_pi, not P_pi^T: solves (I - gamma P_pi) d = (1 - gamma) mu0")
def untransposed(P, pi, mu0, gamma):
    I = torch.eye(P.shape[0], dtype=P.dtype)
    return (1 - gamma) * torch.linalg.solve(I - gamma * _P_pi(P, pi), mu0)


@misconception("discounted_occupancy", "forgets the (1 - gamma) factor: the result sums to 1 / (1 - gamma)")
def no_normalisation(P, pi, mu0, gamma):
    I = torch.eye(P.shape[0], dtype=P.dtype)
    return torch.linalg.solve(I - gamma * _P_pi(P, pi).T, mu0)


@misconception("discounted_occupancy", "starts counting at t = 1: (1 - gamma) sum_t gamma^t Pr(s_{t+1} = s)")
def starts_at_t_one(P, pi, mu0, gamma):
    P_pi = _P_pi(P, pi)
    I = torch.eye(P.shape[0], dtype=P.dtype)
    return (1 - gamma) * torch.linalg.solve(I - gamma * P_pi.T, P_pi.T @ mu0)


@misconception("discounted_occupancy", "truncates the sum over time at t = 50")
def truncated_horizon(P, pi, mu0, gamma):
    P_pi = _P_pi(P, pi)
    state = mu0.clone()
    d = torch.zeros_like(mu0)
    for t in range(50):
        d = d + (1 - gamma) * gamma ** t * state
        state = P_pi.T @ state
    return d


@rewrite("discounted_occupancy", "row-vector form (1 - gamma) mu0^T (I - gamma P_pi)^{-1} with an explicit inverse")
def row_vector_inverse(P, pi, mu0, gamma):
    S = P.shape[0]
    P_pi = (pi[:, :, None] * P).sum(dim=1)
    return (1 - gamma) * (mu0[None, :] @ torch.linalg.inv(torch.eye(S, dtype=P.dtype) - gamma * P_pi))[0]


@rewrite("discounted_occupancy", "unnormalised visitation sum_t gamma^t Pr(s_t) by lstsq, then divided by its own sum")
def normalised_visitation(P, pi, mu0, gamma):
    S = P.shape[0]
    P_pi = torch.einsum("sa,sat->st", pi, P)
    A = torch.eye(S, dtype=P.dtype) - gamma * P_pi.T
    visits = torch.linalg.lstsq(A, mu0[:, None]).solution[:, 0]
    return visits / visits.sum()
