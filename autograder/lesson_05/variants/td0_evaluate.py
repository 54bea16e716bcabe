"""Known mistakes in ``td0_evaluate`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _start(n_states, V0):
    return torch.zeros(n_states, dtype=torch.float32) if V0 is None else V0.clone()


@misconception("td0_evaluate", "updates V0 in place (V = V0, no copy): the caller's initial values change")
def updates_v0_in_place(transitions, n_states, alpha, gamma, V0=None):
    V = torch.zeros(n_states, dtype=torch.float32) if V0 is None else V0
    for s, r, s_next, done in transitions:
        V[s] += alpha * (r + gamma * (1 - float(done)) * V[s_next] - V[s])
    return V


@misconception("td0_evaluate", "ignores done: always bootstraps from V[s_next]")
def ignores_done(transitions, n_states, alpha, gamma, V0=None):
    V = _start(n_states, V0)
    for s, r, s_next, _done in transitions:
        V[s] = V[s] + alpha * (r + gamma * V[s_next] - V[s])
    return V


@misconception("td0_evaluate", "batch (synchronous) update: all TD errors from the initial V, applied at the end")
def synchronous_updates(transitions, n_states, alpha, gamma, V0=None):
    V = _start(n_states, V0)
    increments = torch.zeros_like(V)
    for s, r, s_next, done in transitions:
        increments[s] += alpha * (r + gamma * (1 - float(done)) * V[s_next] - V[s])
    return V + increments


@misconception("td0_evaluate", "treats a done transition's target as 0 (drops its reward as well as the bootstrap)")
def drops_terminal_reward(transitions, n_states, alpha, gamma, V0=None):
    V = _start(n_states, V0)
    for s, r, s_next, done in transitions:
        target = 0.0 if done else r + gamma * V[s_next]
        V[s] = V[s] + alpha * (target - V[s])
    return V


@misconception("td0_evaluate", "starts from float64 zeros when V0 is None")
def float64_default(transitions, n_states, alpha, gamma, V0=None):
    V = torch.zeros(n_states, dtype=torch.float64) if V0 is None else V0.clone()
    for s, r, s_next, done in transitions:
        V[s] = V[s] + alpha * (r + gamma * (1 - float(done)) * V[s_next] - V[s])
    return V


@rewrite("td0_evaluate", "Python float list updated as (1 - alpha) V[s] + alpha * target, converted at the end")
def python_floats(transitions, n_states, alpha, gamma, V0=None):
    dtype = torch.float32 if V0 is None else V0.dtype
    values = [0.0] * n_states if V0 is None else [float(v) for v in V0.tolist()]
    for s, r, s_next, done in transitions:
        target = float(r) if done else float(r) + gamma * values[s_next]
        values[s] = (1 - alpha) * values[s] + alpha * target
    return torch.tensor(values, dtype=dtype)


@rewrite("td0_evaluate", "functional updates V = V + alpha * delta * one_hot(s), never indexing-assignment")
def one_hot_updates(transitions, n_states, alpha, gamma, V0=None):
    V = torch.zeros(n_states) if V0 is None else V0 + 0.0
    eye = torch.eye(n_states, dtype=V.dtype)
    for s, r, s_next, done in transitions:
        bootstrap = 0.0 if done else gamma * V[s_next]
        delta = r + bootstrap - V[s]
        V = V + alpha * delta * eye[s]
    return V
