"""Hidden tests for ``td0_evaluate``: sequential V[s] += alpha (r + gamma (1 - done) V[s'] - V[s])."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_05.strategies import largest, scaled_atol, td_problems
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("td0_evaluate")
ALPHAS = st.sampled_from([0.1, 0.5, 1.0])
GAMMAS = st.sampled_from([0.0, 0.5, 0.9, 1.0])


def td_atol(problem: dict) -> float:
    """Values stay within max(|V0|, |r| / ...) -- a few units: room for rounding in another evaluation order."""
    rewards = [abs(float(t[1])) for t in problem["transitions"]]
    size = max([largest(problem["V0"]) if problem["V0"] is not None else 0.0] + rewards)
    dtype = problem["V0"].dtype if problem["V0"] is not None else torch.float32
    return scaled_atol(dtype, size * (1 + len(rewards)))


@pytest.mark.points(3)
@given(problem=td_problems(), alpha=ALPHAS, gamma=GAMMAS)
def test_matches_reference(student, problem, alpha, gamma):
    """V matches on random transition lists (dones anywhere, the last one too), V0 None/float32/float64."""
    kwargs = {**problem, "alpha": alpha, "gamma": gamma}
    assert_close(student.td0_evaluate(**kwargs), ref.td0_evaluate(**kwargs), atol=td_atol(problem), inputs=kwargs)


CHAIN_CASES = [(1.0, 0.5, 0.9, 5), (2.0, 0.1, 0.5, 12), (-1.0, 1.0, 0.0, 3), (0.5, 0.25, 1.0, 6)]


@pytest.mark.points(2)
def test_single_state_chain(student):
    """n self-loops (0, r, 0, done) from V = 0 follow the closed form of the TD recursion (done or not)."""
    for r, alpha, gamma, n in CHAIN_CASES:
        for done in (False, True):
            transitions = [(0, r, 0, done)] * n
            # V_{k+1} = V_k + alpha (r + gamma (1 - done) V_k - V_k) is linear: V_{k+1} = c V_k + alpha r
            c = 1 - alpha * (1 - (0.0 if done else gamma))
            expected = torch.tensor([alpha * r * sum(c ** k for k in range(n))], dtype=torch.float32)
            kwargs = {"transitions": transitions, "n_states": 1, "alpha": alpha, "gamma": gamma}
            assert_close(student.td0_evaluate(**kwargs), expected, atol=scaled_atol(torch.float32, abs(r) * n),
                         what=f"V after {n} self-loop updates (done={done})", inputs=kwargs)


@pytest.mark.points(2)
@given(problem=td_problems(v0="float64", all_done=True, min_size=1), alpha=ALPHAS, gamma=GAMMAS)
def test_done_transitions_do_not_bootstrap(student, problem, alpha, gamma):
    """When every transition ends its episode the target is r alone: V(s_next) (random V0) is never used."""
    kwargs = {**problem, "alpha": alpha, "gamma": gamma}
    V = problem["V0"].clone()
    for s, r, _, _ in problem["transitions"]:
        V[s] = V[s] + alpha * (r - V[s])
    assert_close(student.td0_evaluate(**kwargs), V, atol=td_atol(problem),
                 what="V when every transition is done", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), data=st.data(), alpha=ALPHAS)
def test_updates_are_sequential(student, dtype, data, alpha):
    """Transitions are applied in order: an update sees the values earlier updates left (here, of the next state)."""
    r = data.draw(st.sampled_from([1.0, 2.0, -3.0]))
    # state 1 is updated first; then state 0 bootstraps from the new V(1), then state 1 again from the new V(0)
    transitions = [(1, r, 2, True), (0, 0.0, 1, False), (1, 0.0, 0, False)]
    V0 = data.draw(tensors((3,), dtype, floats(-2.0, 2.0)))
    V = V0.clone().double()
    for s, reward, s_next, done in transitions:
        V[s] = V[s] + alpha * (reward + (0.0 if done else V[s_next]) - V[s])
    kwargs = {"transitions": transitions, "n_states": 3, "alpha": alpha, "gamma": 1.0, "V0": V0}
    assert_close(student.td0_evaluate(**kwargs), V.to(dtype), atol=scaled_atol(dtype, 10.0),
                 what="V after three dependent updates", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), steps=st.integers(1, 5), data=st.data())
def test_exact_values_are_a_fixed_point(student, dtype, steps, data):
    """Starting from the true values of a deterministic episode, TD(0) leaves them unchanged (every TD error is 0)."""
    gamma = data.draw(st.sampled_from([0.5, 0.9, 1.0]))
    rewards = data.draw(st.lists(st.integers(-4, 4), min_size=steps, max_size=steps))
    returns = [0.0] * (steps + 1)  # state t is step t of the episode; state `steps` is never reached
    for t in reversed(range(steps)):
        returns[t] = rewards[t] + gamma * returns[t + 1]
    transitions = [(t, float(rewards[t]), t + 1, t == steps - 1) for t in range(steps)]
    V0 = torch.tensor(returns, dtype=dtype)
    kwargs = {"transitions": transitions, "n_states": steps + 1, "alpha": 0.5, "gamma": gamma, "V0": V0}
    assert_close(student.td0_evaluate(**kwargs), V0, atol=scaled_atol(dtype, 4.0 * steps),
                 what="V after TD(0) from the exact values", inputs=kwargs)


@pytest.mark.points(1)
@given(problem=td_problems(v0="none", min_size=1), alpha=ALPHAS, gamma=GAMMAS)
def test_default_start_is_float32_zeros(student, problem, alpha, gamma):
    """With V0=None the values start at 0 and come back as float32."""
    kwargs = {**problem, "alpha": alpha, "gamma": gamma}
    assert_close(student.td0_evaluate(**kwargs), ref.td0_evaluate(**kwargs), atol=td_atol(problem), inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), data=st.data())
def test_empty_list_returns_v0(student, dtype, data):
    """No transitions: the result is V0's values in V0's dtype (zeros in float32 for V0=None)."""
    n_states = data.draw(st.integers(1, 5))
    V0 = data.draw(tensors((n_states,), dtype, floats(-10.0, 10.0)).filter(lambda v: bool((v != 0).any())))
    for start, expected in ((V0, V0), (None, torch.zeros(n_states))):
        kwargs = {"transitions": [], "n_states": n_states, "alpha": 0.5, "gamma": 0.9, "V0": start}
        assert_close(student.td0_evaluate(**kwargs), expected, what="V after no transitions", inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=td_problems(v0="float64", min_size=1), alpha=ALPHAS, gamma=GAMMAS)
def test_does_not_modify_v0(student, problem, alpha, gamma):
    """td0_evaluate returns a new tensor and leaves V0 unchanged (and returns the right values)."""
    result = student.call("td0_evaluate", problem["transitions"], problem["n_states"], alpha, gamma,
                          V0=problem["V0"])
    assert not result.mutated, f"td0_evaluate modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    kwargs = {**problem, "alpha": alpha, "gamma": gamma}
    assert_close(result.value, ref.td0_evaluate(**kwargs), atol=td_atol(problem), inputs=kwargs)
