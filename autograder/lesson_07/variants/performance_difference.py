"""Known mistakes in ``performance_difference`` and independent correct rewrites (self-contained)."""

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


@misconception("performance_difference", "uses the old policy's occupancy d^pi_old (that is the surrogate)")
def old_state_distribution(P, R, pi_old, pi_new, mu0, gamma):
    d = _occupancy(P, pi_old, mu0, gamma)
    return (d * (pi_new * _advantages(P, R, pi_old, gamma)).sum(dim=1)).sum() / (1 - gamma)


@misconception("performance_difference", "forgets the 1/(1-gamma) factor")
def no_horizon_factor(P, R, pi_old, pi_new, mu0, gamma):
    d = _occupancy(P, pi_new, mu0, gamma)
    return (d * (pi_new * _advantages(P, R, pi_old, gamma)).sum(dim=1)).sum()


@misconception("performance_difference", "takes actions from pi_old: E_{a ~ pi_old}[A^pi_old] (always 0)")
def old_actions(P, R, pi_old, pi_new, mu0, gamma):
    d = _occupancy(P, pi_new, mu0, gamma)
    return (d * (pi_old * _advantages(P, R, pi_old, gamma)).sum(dim=1)).sum() / (1 - gamma)


@misconception("performance_difference",
               "uses the new policy's advantages with the old policy's states and actions (sign flipped)")
def swapped_roles(P, R, pi_old, pi_new, mu0, gamma):
    d = _occupancy(P, pi_old, mu0, gamma)
    return (d * (pi_old * _advantages(P, R, pi_new, gamma)).sum(dim=1)).sum() / (1 - gamma)


@misconception("performance_difference",
               "pushes the occupancy backwards: no transpose in (I - gamma P_pi)^T d = (1-gamma) mu0")
def untransposed_occupancy(P, R, pi_old, pi_new, mu0, gamma):
    P_new = torch.einsum("sa,sat->st", pi_new, P)
    d = (1 - gamma) * torch.linalg.solve(torch.eye(P.shape[0], dtype=P.dtype) - gamma * P_new, mu0)
    return (d * (pi_new * _advantages(P, R, pi_old, gamma)).sum(dim=1)).sum() / (1 - gamma)


@rewrite("performance_difference", "computes J(pi_new) - J(pi_old) directly from the two value functions")
def direct_difference(P, R, pi_old, pi_new, mu0, gamma):
    return mu0 @ _values(P, R, pi_new, gamma) - mu0 @ _values(P, R, pi_old, gamma)


@rewrite("performance_difference",
         "sums the discounted expected advantages along pi_new's state distribution for 3000 steps (float64)")
def rollout_sum(P, R, pi_old, pi_new, mu0, gamma):
    A = _advantages(P.double(), R.double(), pi_old.double(), gamma)
    P_new = torch.einsum("sa,sat->st", pi_new.double(), P.double())
    per_state = (pi_new.double() * A).sum(dim=1)
    dist, total, discount = mu0.double(), torch.zeros((), dtype=torch.float64), 1.0
    for _ in range(3000):                             # gamma <= 0.95: 0.95^3000 is negligible
        total = total + discount * (dist @ per_state)
        dist, discount = dist @ P_new, discount * gamma
        if discount < 1e-20:
            break
    return total.to(P.dtype)
