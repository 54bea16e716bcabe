"""Lesson-5 strategies: tabular MDPs, policies, start distributions, discounts, trajectories and transitions.

Every MDP is a dict keyed by the graded functions' argument names (``P``, ``R``), so a test calls
``student.policy_evaluation(**mdp, pi=pi, gamma=gamma)``. Probability vectors are normalised in
float64 and then cast, so a float32 row sums to 1 up to rounding. Inputs respect the problem-set
preconditions: every P[s, a] and every policy row is a distribution, 0 <= gamma <= 0.99, |R| <= 2.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from rlgrade.testing import tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

MAX_STATES = 5
MAX_ACTIONS = 4
MAX_STEPS = 6
REWARD_BOUND = 2.0
GAMMA_GRID = (0.0, 0.5, 0.9, 0.99)
DONE_DTYPES = (torch.bool, torch.float32, torch.float64)
TD_REWARDS = (0.0, 1.0, -1.0, 2, -3, 0.5, -0.25, 1.5, 4.75, -2.5, 0.1, 3.3, -4.9)
"""Rewards of sampled transitions: Python floats (some not representable in binary) and ints."""


def discounts(max_gamma: float = 0.99) -> st.SearchStrategy[float]:
    """A discount in [0, max_gamma]: the grid's values (0 included) or any float between."""
    grid = [g for g in GAMMA_GRID if g <= max_gamma]
    return st.one_of(st.sampled_from(grid), st.floats(0.0, max_gamma, allow_nan=False, allow_infinity=False))


WEIGHTS = (0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 5.0, 0.125)
"""Unnormalised probability weights of the random rows: zeros make sparse rows."""
N_RANDOM_ROWS = 24


def _normalised(weights: list[float]) -> list[float]:
    total = sum(weights)
    return [w / total for w in weights] if total > 0 else [1.0 / len(weights)] * len(weights)


def _row_patterns(n: int) -> list[list[float]]:
    """Probability vectors of length n to draw rows from: uniform, every one-hot, then random sparse rows.

    Drawing a whole row by index (instead of n weights) keeps generation cheap: P [S, A, S] is the
    largest object the tests draw, and generating it dominated the suite's time. A fixed seed keeps the
    patterns (and so every grading run) the same.
    """
    generator = torch.Generator().manual_seed(5000 + n)
    rows = [[1.0 / n] * n] + [[float(j == k) for j in range(n)] for k in range(n)]
    for _ in range(N_RANDOM_ROWS):
        picks = torch.randint(0, len(WEIGHTS), (n,), generator=generator).tolist()
        rows.append(_normalised([WEIGHTS[i] for i in picks]))
    return rows


ROW_PATTERNS = {n: _row_patterns(n) for n in range(1, max(MAX_STATES, MAX_ACTIONS, 8) + 1)}


@st.composite
def distribution_lists(draw, n: int, *, kind: str | None = None) -> list[float]:
    """A probability vector of length n as float64 numbers: one-hot, or uniform / random sparse weights."""
    kind = kind if kind is not None else draw(st.sampled_from(["weights", "weights", "one_hot"]))
    if kind == "one_hot":
        k = draw(st.integers(0, n - 1))
        return [float(j == k) for j in range(n)]
    patterns = ROW_PATTERNS[n]  # uniform or a random row (the one-hot rows are the other kind)
    return patterns[draw(st.sampled_from([0] + list(range(n + 1, len(patterns)))))]


@st.composite
def distributions(draw, n: int, dtype: torch.dtype, *, kind: str | None = None) -> torch.Tensor:
    """[n] probability vector (e.g. a start distribution mu0)."""
    return torch.tensor(draw(distribution_lists(n, kind=kind)), dtype=torch.float64).to(dtype)


@st.composite
def stochastic_matrices(draw, shape: tuple[int, ...], dtype: torch.dtype, *, deterministic: bool = False,
                        fallback=None):
    """A tensor of ``shape`` whose last axis holds probability vectors (P[s, a, :], pi[s, :]).

    Each row is one of :data:`ROW_PATTERNS` (one-hot only, with ``deterministic``). The first choice,
    where shrinking goes, is one-hot on column ``fallback(row)`` when given (e.g. a self-loop), else uniform.
    """
    n = shape[-1]
    n_rows = 1
    for d in shape[:-1]:
        n_rows *= d
    patterns = ROW_PATTERNS[n]
    choices = list(range(1, n + 1)) if deterministic else list(range(len(patterns)))
    picks = draw(st.lists(st.sampled_from(choices), min_size=n_rows, max_size=n_rows))
    rows = []
    for r, k in enumerate(picks):
        if k == 0 and fallback is not None:
            rows.append([float(j == fallback(r)) for j in range(n)])
        else:
            rows.append(patterns[k])
    return torch.tensor(rows, dtype=torch.float64).to(dtype).reshape(shape)


@st.composite
def tabular_mdps(draw, *, dtype: torch.dtype | None = None, min_states: int = 1, max_states: int = MAX_STATES,
                 min_actions: int = 1, max_actions: int = MAX_ACTIONS):
    """``{"P": [S, A, S], "R": [S, A]}``: valid stochastic transitions, rewards in [-2, 2]."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n_states = draw(st.integers(min_states, max_states))
    n_actions = draw(st.integers(min_actions, max_actions))
    # an all-zero row of weights becomes a self-loop (row s * A + a -> state s): shrinking leads to absorbing states
    P = draw(stochastic_matrices((n_states, n_actions, n_states), dtype, fallback=lambda row: row // n_actions))
    R = draw(tensors((n_states, n_actions), dtype, floats(-REWARD_BOUND, REWARD_BOUND)))
    return {"P": P, "R": R}


@st.composite
def policies(draw, n_states: int, n_actions: int, dtype: torch.dtype):
    """pi [S, A]: stochastic or deterministic (one-hot rows)."""
    deterministic = draw(st.booleans())
    return draw(stochastic_matrices((n_states, n_actions), dtype, deterministic=deterministic))


@st.composite
def mdps_with_policy(draw, *, dtype: torch.dtype | None = None, max_gamma: float = 0.99, start: bool = False):
    """``(mdp, pi, gamma)`` or, with ``start``, ``(mdp, pi, mu0, gamma)``."""
    mdp = draw(tabular_mdps(dtype=dtype))
    n_states, n_actions = mdp["R"].shape
    pi = draw(policies(n_states, n_actions, mdp["R"].dtype))
    gamma = draw(discounts(max_gamma))
    if start:
        return mdp, pi, draw(distributions(n_states, mdp["R"].dtype)), gamma
    return mdp, pi, gamma


@st.composite
def value_vectors(draw, n_states: int, dtype: torch.dtype, bound: float = 50.0):
    """Any state-value function V [S] with |V| <= bound."""
    return draw(tensors((n_states,), dtype, floats(-bound, bound)))


@st.composite
def trajectories(draw, *, dtype: torch.dtype | None = None, done_dtype: torch.dtype | None = None,
                 allow_no_dones: bool = True, min_steps: int = 1, max_steps: int = MAX_STEPS):
    """``{"rewards": [T], "dones": [T] | None}``: episode ends anywhere, the last step included."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    steps = draw(st.integers(min_steps, max_steps))
    rewards = draw(tensors((steps,), dtype, floats(-5.0, 5.0)))
    if allow_no_dones and draw(st.integers(0, 3)) == 0:
        return {"rewards": rewards, "dones": None}
    flags = draw(st.lists(st.booleans(), min_size=steps, max_size=steps))
    done_dtype = done_dtype if done_dtype is not None else draw(st.sampled_from(DONE_DTYPES))
    return {"rewards": rewards, "dones": torch.tensor(flags).to(done_dtype)}


@st.composite
def transition_lists(draw, n_states: int, *, min_size: int = 0, max_size: int = 12, all_done: bool = False):
    """A list of ``(s, r, s_next, done)`` tuples; done is a bool or a 0/1 int, rewards from :data:`TD_REWARDS`."""
    as_int = draw(st.booleans())

    def one(s, r, s_next, done):
        return (s, r, s_next, int(done) if as_int else done)

    state = st.integers(0, n_states - 1)
    reward = st.sampled_from(TD_REWARDS)
    done = st.just(True) if all_done else st.booleans()
    items = draw(st.lists(st.tuples(state, reward, state, done), min_size=min_size, max_size=max_size))
    return [one(*item) for item in items]


@st.composite
def td_problems(draw, *, v0: str | None = None, all_done: bool = False, min_size: int = 0):
    """``{"transitions", "n_states", "V0"}`` with V0 None, float32 or float64 (|V0| <= 10)."""
    n_states = draw(st.integers(1, MAX_STATES))
    transitions = draw(transition_lists(n_states, all_done=all_done, min_size=min_size))
    v0 = v0 if v0 is not None else draw(st.sampled_from(["none", "float32", "float64"]))
    V0 = None if v0 == "none" else draw(tensors((n_states,), getattr(torch, v0), floats(-10.0, 10.0)))
    return {"transitions": transitions, "n_states": n_states, "V0": V0}


# --- tolerances --------------------------------------------------------------------------------------------


def value_scale(R: torch.Tensor, gamma: float) -> float:
    """max |R| / (1 - gamma): a bound on |V| for any policy (at least 1)."""
    return max(1.0, float(R.detach().double().abs().max()) / (1.0 - gamma)) if R.numel() else 1.0


def value_atol(R: torch.Tensor, gamma: float) -> float:
    """Room for two correct ways of solving (I - gamma P) V = b in R's dtype.

    Rounding errors grow with the values' scale |R| / (1 - gamma) and with the condition number of
    I - gamma P, up to (1 + gamma) / (1 - gamma): an iterative rewrite and a direct solve differ by that much.
    """
    return tolerance_for(R.dtype)[1] * value_scale(R, gamma) * (1.0 + gamma) / (1.0 - gamma) ** 0.5


def scaled_atol(dtype: torch.dtype, magnitude: float) -> float:
    """The dtype's default atol times the size of the terms (at least 1)."""
    return tolerance_for(dtype)[1] * max(1.0, float(magnitude))


def largest(x: torch.Tensor) -> float:
    x = x.detach().double().abs()
    return float(x.max()) if x.numel() else 0.0


def policy_matrices(P: torch.Tensor, R: torch.Tensor, pi: torch.Tensor):
    """(P_pi [S, S], R_pi [S]) in float64, for property checks computed independently of any submission."""
    P, R, pi = P.double(), R.double(), pi.double()
    P_pi = (pi[:, :, None] * P).sum(dim=1)
    R_pi = (pi * R).sum(dim=1)
    return P_pi, R_pi


def exact_q_star(P: torch.Tensor, R: torch.Tensor, gamma: float) -> torch.Tensor:
    """Q* in float64, by value iteration to machine precision followed by policy iteration's exact solve."""
    P, R = P.double(), R.double()
    n_states = P.shape[0]
    V = torch.zeros(n_states, dtype=torch.float64)
    for _ in range(100):  # policy iteration: converges in a handful of steps on these sizes
        Q = R + gamma * torch.einsum("sat,t->sa", P, V)
        pi = torch.nn.functional.one_hot(Q.argmax(dim=1), P.shape[1]).double()
        P_pi, R_pi = policy_matrices(P, R, pi)
        V_new = torch.linalg.solve(torch.eye(n_states, dtype=torch.float64) - gamma * P_pi, R_pi)
        if torch.equal(V_new, V):
            break
        V = V_new
    return R + gamma * torch.einsum("sat,t->sa", P, V)


def has_clear_gaps(P: torch.Tensor, R: torch.Tensor, gamma: float) -> bool:
    """True when, in every state, the best action beats every other action by a clear margin.

    Float64: a gap above 1e-6 (no ties at all). Float32 rounds Q at about 1e-7 of the value scale, so a
    larger margin is needed there. Exact ties are tested separately, on MDPs built to make them exact.
    """
    Q = exact_q_star(P, R, gamma)
    if Q.shape[1] == 1:
        return True
    top2 = Q.topk(2, dim=1).values
    gap = float((top2[:, 0] - top2[:, 1]).min())
    need = 1e-6 if P.dtype == torch.float64 else 1e-4 * value_scale(R, gamma) / (1.0 - gamma) ** 0.5
    return gap > need
