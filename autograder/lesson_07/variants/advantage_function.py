"""Known mistakes in ``advantage_function`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _policy_matrices(P, R, pi):
    return torch.einsum("sa,sat->st", pi, P), (pi * R).sum(dim=1)


@misconception("advantage_function", "subtracts max_a Q(s, a) (the greedy value) instead of V^pi(s)")
def minus_max_q(P, R, pi, gamma):
    P_pi, R_pi = _policy_matrices(P, R, pi)
    V = torch.linalg.solve(torch.eye(P.shape[0], dtype=P.dtype) - gamma * P_pi, R_pi)
    Q = R + gamma * P @ V
    return Q - Q.max(dim=1, keepdim=True).values


@misconception("advantage_function", "subtracts the unweighted mean of Q over actions instead of the pi-weighted one")
def minus_mean_q(P, R, pi, gamma):
    P_pi, R_pi = _policy_matrices(P, R, pi)
    V = torch.linalg.solve(torch.eye(P.shape[0], dtype=P.dtype) - gamma * P_pi, R_pi)
    Q = R + gamma * P @ V
    return Q - Q.mean(dim=1, keepdim=True)


@misconception("advantage_function", "solves with the transposed transition matrix (I - gamma P_pi^T) V = R_pi")
def transposed_solve(P, R, pi, gamma):
    P_pi, R_pi = _policy_matrices(P, R, pi)
    V = torch.linalg.solve(torch.eye(P.shape[0], dtype=P.dtype) - gamma * P_pi.T, R_pi)
    Q = R + gamma * P @ V
    return Q - V[:, None]


@misconception("advantage_function", "evaluates V with 50 Bellman sweeps from 0: not converged for gamma near 1")
def truncated_sweeps(P, R, pi, gamma):
    P_pi, R_pi = _policy_matrices(P, R, pi)
    V = torch.zeros_like(R_pi)
    for _ in range(50):
        V = R_pi + gamma * P_pi @ V
    Q = R + gamma * P @ V
    return Q - V[:, None]


@misconception("advantage_function", "forgets gamma in Q: Q = R + P V")
def undiscounted_q(P, R, pi, gamma):
    P_pi, R_pi = _policy_matrices(P, R, pi)
    V = torch.linalg.solve(torch.eye(P.shape[0], dtype=P.dtype) - gamma * P_pi, R_pi)
    Q = R + P @ V
    return Q - V[:, None]


@misconception("advantage_function", "uses the one-step advantage R(s, a) - sum_a pi R (ignores the future)")
def immediate_only(P, R, pi, gamma):
    return R - (pi * R).sum(dim=1, keepdim=True)


@rewrite("advantage_function", "solves for Q directly on state-action pairs: (I - gamma P Pi) Q = R")
def q_on_state_actions(P, R, pi, gamma):
    n_states, n_actions = R.shape
    # (P Pi)[(s, a), (s', a')] = P(s' | s, a) pi(a' | s')
    P_Pi = (P[:, :, :, None] * pi[None, None, :, :]).reshape(n_states * n_actions, n_states * n_actions)
    Q = torch.linalg.solve(torch.eye(n_states * n_actions, dtype=R.dtype) - gamma * P_Pi, R.reshape(-1))
    Q = Q.reshape(n_states, n_actions)
    V = (pi * Q).sum(dim=1, keepdim=True)
    return Q - V


@rewrite("advantage_function", "explicit inverse and loops over states and actions")
def loops_with_inverse(P, R, pi, gamma):
    n_states, n_actions = R.shape
    P_pi = torch.zeros(n_states, n_states, dtype=R.dtype)
    R_pi = torch.zeros(n_states, dtype=R.dtype)
    for s in range(n_states):
        for a in range(n_actions):
            P_pi[s] += pi[s, a] * P[s, a]
            R_pi[s] += pi[s, a] * R[s, a]
    V = torch.linalg.inv(torch.eye(n_states, dtype=R.dtype) - gamma * P_pi) @ R_pi
    A = torch.empty_like(R)
    for s in range(n_states):
        for a in range(n_actions):
            A[s, a] = R[s, a] + gamma * (P[s, a] * V).sum() - V[s]
    return A
