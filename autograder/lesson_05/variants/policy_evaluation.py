"""Known mistakes in ``policy_evaluation`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _policy_terms(P, R, pi):
    P_pi = torch.einsum("sa,sat->st", pi, P)
    R_pi = (pi * R).sum(dim=1)
    return P_pi, R_pi


@misconception("policy_evaluation", "transposes P_pi: solves (I - gamma P_pi^T) V = R_pi (the occupancy's matrix)")
def transposed_transitions(P, R, pi, gamma):
    P_pi, R_pi = _policy_terms(P, R, pi)
    I = torch.eye(P.shape[0], dtype=P.dtype)
    return torch.linalg.solve(I - gamma * P_pi.T, R_pi)


@misconception("policy_evaluation", "averages the rewards uniformly over actions instead of weighting them by pi")
def uniform_reward_average(P, R, pi, gamma):
    P_pi, _ = _policy_terms(P, R, pi)
    I = torch.eye(P.shape[0], dtype=P.dtype)
    return torch.linalg.solve(I - gamma * P_pi, R.mean(dim=1))


@misconception("policy_evaluation", "iterates the Bellman backup a fixed 100 times instead of solving exactly")
def truncated_iteration(P, R, pi, gamma):
    P_pi, R_pi = _policy_terms(P, R, pi)
    V = torch.zeros_like(R_pi)
    for _ in range(100):
        V = R_pi + gamma * P_pi @ V
    return V


@misconception("policy_evaluation", "ignores the dynamics: V = R_pi / (1 - gamma), as if every state were absorbing")
def ignores_transitions(P, R, pi, gamma):
    _, R_pi = _policy_terms(P, R, pi)
    return R_pi / (1 - gamma)


@misconception("policy_evaluation", "solves in float64 for accuracy and returns float64 for float32 inputs")
def returns_float64(P, R, pi, gamma):
    P_pi, R_pi = _policy_terms(P.double(), R.double(), pi.double())
    I = torch.eye(P.shape[0], dtype=torch.float64)
    return torch.linalg.solve(I - gamma * P_pi, R_pi)


@rewrite("policy_evaluation", "builds P_pi and R_pi with Python loops, then V = inv(I - gamma P_pi) @ R_pi")
def loops_and_inverse(P, R, pi, gamma):
    S, A = R.shape
    P_pi = torch.zeros(S, S, dtype=P.dtype)
    R_pi = torch.zeros(S, dtype=P.dtype)
    for s in range(S):
        for a in range(A):
            P_pi[s] = P_pi[s] + pi[s, a] * P[s, a]
            R_pi[s] = R_pi[s] + pi[s, a] * R[s, a]
    return torch.linalg.inv(torch.eye(S, dtype=P.dtype) - gamma * P_pi) @ R_pi


@rewrite("policy_evaluation", "Neumann series sum_k (gamma P_pi)^k R_pi by repeated squaring, accumulated in float64")
def neumann_doubling(P, R, pi, gamma):
    M = gamma * (pi.double()[:, :, None] * P.double()).sum(dim=1)       # gamma P_pi
    V = (pi.double() * R.double()).sum(dim=1)                            # the k = 0 term
    # (I + M)(I + M^2)(I + M^4)... = sum_{k < 2^n} M^k; gamma^(2^14) underflows for gamma <= 0.99
    for _ in range(14):
        V = V + M @ V
        M = M @ M
    return V.to(P.dtype)
