"""Known mistakes in ``q_from_v`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("q_from_v", "reads P as P[s', a, s]: contracts V with the first axis of P")
def wrong_axis(P, R, V, gamma):
    return R + gamma * torch.einsum("tas,t->sa", P, V)


@misconception("q_from_v", "forgets the discount: Q = R + P V")
def no_discount(P, R, V, gamma):
    return R + torch.einsum("sat,t->sa", P, V)


@misconception("q_from_v", "discounts the immediate reward too: Q = gamma (R + P V)")
def discounts_reward(P, R, V, gamma):
    return gamma * (R + torch.einsum("sat,t->sa", P, V))


@misconception("q_from_v", "bootstraps with the current state's value: Q[s, a] = R[s, a] + gamma V[s]")
def current_state_value(P, R, V, gamma):
    return R + gamma * V[:, None]


@misconception("q_from_v", "adds the lookahead into R in place (R += gamma P V) and returns R")
def accumulates_into_r(P, R, V, gamma):
    R += gamma * torch.einsum("sat,t->sa", P, V)
    return R


@rewrite("q_from_v", "explicit loops over s, a and s'")
def loops(P, R, V, gamma):
    S, A = R.shape
    Q = torch.empty(S, A, dtype=R.dtype)
    for s in range(S):
        for a in range(A):
            expected_next = torch.zeros((), dtype=R.dtype)
            for t in range(S):
                expected_next = expected_next + P[s, a, t] * V[t]
            Q[s, a] = R[s, a] + gamma * expected_next
    return Q


@rewrite("q_from_v", "one matrix-vector product on P reshaped to [S*A, S], then reshaped back")
def reshaped_matvec(P, R, V, gamma):
    S, A, _ = P.shape
    return torch.addmv(R.reshape(-1), P.reshape(S * A, S), V, alpha=gamma).reshape(S, A)
