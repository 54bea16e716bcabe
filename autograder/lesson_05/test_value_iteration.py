"""Hidden tests for ``value_iteration``: V* by Bellman optimality sweeps from V = 0, greedy one-hot policy."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_05.strategies import discounts, has_clear_gaps, policies, tabular_mdps, value_atol
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes

ref = reference_for(__file__)
pytestmark = pytest.mark.question("value_iteration")
# value iteration needs ~log(tol) / log(gamma) sweeps: random tests stay at gamma <= 0.9 to keep the suite
# fast; gamma = 0.99 has its own test on fixed MDPs
MAX_RANDOM_GAMMA = 0.9


@st.composite
def vi_problems(draw, *, dtype=None, max_gamma: float = MAX_RANDOM_GAMMA):
    mdp = draw(tabular_mdps(dtype=dtype))
    return {**mdp, "gamma": draw(discounts(max_gamma))}


def check_outputs(got, n_states: int, n_actions: int, inputs: dict):
    """The result is a (V [S], one-hot greedy_pi [S, A]) tuple; returns it."""
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise AssertionError(f"value_iteration should return a tuple (V_star, greedy_pi), got {got!r}"
                             f"\n  inputs: {inputs}")
    V, pi = got
    if not (isinstance(V, torch.Tensor) and tuple(V.shape) == (n_states,)):
        raise AssertionError(f"V_star should be a tensor of shape ({n_states},), got {V!r}\n  inputs: {inputs}")
    if not (isinstance(pi, torch.Tensor) and tuple(pi.shape) == (n_states, n_actions)):
        raise AssertionError(f"greedy_pi should be a tensor of shape ({n_states}, {n_actions}), got {pi!r}"
                             f"\n  inputs: {inputs}")
    one_hot = bool(((pi == 0) | (pi == 1)).all()) and bool((pi.sum(dim=1) == 1).all())
    if not one_hot:
        raise AssertionError(f"greedy_pi should have exactly one 1 per row (one-hot), got {pi}\n  inputs: {inputs}")
    return V, pi


@pytest.mark.points(3)
@given(problem=vi_problems())
def test_matches_reference(student, problem):
    """V* and the greedy policy match on random MDPs (gamma up to 0.9, no near-ties), float32 and float64."""
    expected = ref.value_iteration(**problem)
    got = student.value_iteration(**problem)
    atol = value_atol(problem["R"], problem["gamma"])
    if has_clear_gaps(problem["P"], problem["R"], problem["gamma"]):
        assert_close(got, expected, atol=atol, inputs=problem)
    else:  # nearly tied actions: rounding may pick either, so only the values are compared
        check_outputs(got, *problem["R"].shape, problem)
        assert_close(got[0], expected[0], atol=atol, what="V_star", inputs=problem)


@pytest.mark.points(2)
@given(problem=vi_problems())
def test_bellman_optimality_equation_holds(student, problem):
    """The returned V* satisfies V = max_a (R + gamma P V) (checked in float64 on your values)."""
    V, _ = check_outputs(student.value_iteration(**problem), *problem["R"].shape, problem)
    P, R, gamma = problem["P"].double(), problem["R"].double(), problem["gamma"]
    backup = (R + gamma * torch.einsum("sat,t->sa", P, V.double())).max(dim=1).values
    assert_close(V.double(), backup, atol=value_atol(problem["R"], gamma),
                 what="max_a (R + gamma P V) (the right-hand side of the Bellman optimality equation, for your V)",
                 inputs=problem)


@pytest.mark.points(2)
@given(problem=vi_problems())
def test_greedy_policy_is_optimal(student, problem):
    """The greedy policy is one-hot and its value (by exact policy evaluation) equals the optimal V*."""
    _, pi = check_outputs(student.value_iteration(**problem), *problem["R"].shape, problem)
    V_star, _ = ref.value_iteration(**problem)
    V_greedy = ref.policy_evaluation(problem["P"], problem["R"], pi.to(problem["P"].dtype), problem["gamma"])
    assert_close(V_greedy, V_star, atol=value_atol(problem["R"], problem["gamma"]),
                 what="the value of your greedy policy (should be V*)", inputs=problem)


@pytest.mark.points(1)
@settings(max_examples=15)
@given(problem=vi_problems(), data=st.data())
def test_optimal_values_dominate_every_policy(student, problem, data):
    """V* >= V^pi in every state for a random policy pi (and V* is right)."""
    V, _ = check_outputs(student.value_iteration(**problem), *problem["R"].shape, problem)
    pi = data.draw(policies(*problem["R"].shape, problem["R"].dtype))
    atol = value_atol(problem["R"], problem["gamma"])
    V_pi = ref.policy_evaluation(problem["P"], problem["R"], pi, problem["gamma"])
    below = V.double() < V_pi.double() - atol
    assert not bool(below.any()), (f"V* should dominate every policy's value, but V* = {V} is below V^pi = {V_pi} "
                                   f"for pi = {pi}\n  inputs: {problem}")
    assert_close(V, ref.value_iteration(**problem)[0], atol=atol, what="V_star", inputs=problem)


@st.composite
def tie_problems(draw):
    """MDPs whose Q values tie exactly, in float32 too: dyadic P (at most two successors, weights 1 or 1/2),
    rewards on a grid of quarters, gamma in {0, 0.5}, and some actions duplicated (same P row and reward)."""
    dtype = draw(float_dtypes())
    n_states = draw(st.integers(1, 4))
    n_base = draw(st.integers(1, 3))
    n_actions = draw(st.integers(n_base + 1, 4))
    base_of = list(range(n_base)) + draw(st.lists(st.integers(0, n_base - 1), min_size=n_actions - n_base,
                                                  max_size=n_actions - n_base))
    base_of = draw(st.permutations(base_of))  # duplicates may come before or after their original
    P = torch.zeros(n_states, n_base, n_states, dtype=torch.float64)
    for s in range(n_states):
        for a in range(n_base):
            first, second = draw(st.integers(0, n_states - 1)), draw(st.integers(0, n_states - 1))
            P[s, a, first] += 0.5
            P[s, a, second] += 0.5
    R_base = torch.tensor(draw(st.lists(st.lists(st.integers(-8, 8), min_size=n_base, max_size=n_base),
                                        min_size=n_states, max_size=n_states)), dtype=torch.float64) / 4
    index = torch.tensor(base_of)
    return {"P": P[:, index].to(dtype), "R": R_base[:, index].to(dtype), "gamma": draw(st.sampled_from([0.0, 0.5]))}


@pytest.mark.points(2)
@given(problem=tie_problems())
def test_ties_go_to_the_lowest_action(student, problem):
    """Exactly tied actions (duplicated actions, equal rewards): the greedy policy picks the lowest index."""
    got = student.value_iteration(**problem)
    expected = ref.value_iteration(**problem)
    check_outputs(got, *problem["R"].shape, problem)
    assert_close(got, expected, atol=value_atol(problem["R"], problem["gamma"]), inputs=problem)


@pytest.mark.points(1)
@given(problem=vi_problems(), max_iters=st.integers(1, 3))
def test_max_iters_caps_the_sweeps(student, problem, max_iters):
    """With max_iters = k the values are V_k, k sweeps from V_0 = 0 (max_iters = 1 gives max_a R)."""
    kwargs = {**problem, "max_iters": max_iters}
    got = student.value_iteration(**kwargs)
    check_outputs(got, *problem["R"].shape, kwargs)
    assert_close(got[0], ref.value_iteration(**kwargs)[0], atol=value_atol(problem["R"], problem["gamma"]),
                 what=f"V after max_iters={max_iters} sweeps", inputs=kwargs)


def high_discount_mdp(dtype: torch.dtype):
    """A 3-state MDP at gamma = 0.99 where patience pays: the best long-run action is not the greedy-now one."""
    P = torch.zeros(3, 2, 3, dtype=torch.float64)
    P[0, 0, 0] = 1.0                      # state 0: action 0 stays (reward 0.1)
    P[0, 1, 1] = 1.0                      # action 1 moves on (reward 0)
    P[1, 0, 0] = 0.5                      # state 1: action 0 is a coin flip back or forward
    P[1, 0, 2] = 0.5
    P[1, 1, 2] = 1.0                      # action 1 goes forward at a cost
    P[2, :, 2] = 1.0                      # state 2 is absorbing with reward 0.2 (action 0) or 0.15
    R = torch.tensor([[0.1, 0.0], [0.0, -0.5], [0.2, 0.15]], dtype=torch.float64)
    return {"P": P.to(dtype), "R": R.to(dtype), "gamma": 0.99}


@pytest.mark.points(1)
def test_high_discount(student):
    """gamma = 0.99 (thousands of sweeps): V* and the greedy policy match on a fixed MDP, float32 and float64."""
    for dtype in (torch.float32, torch.float64):
        problem = high_discount_mdp(dtype)
        assert_close(student.value_iteration(**problem), ref.value_iteration(**problem),
                     atol=value_atol(problem["R"], 0.99), inputs=problem)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=vi_problems())
def test_does_not_modify_inputs(student, problem):
    """value_iteration leaves P and R unchanged (and returns the right values)."""
    result = student.call("value_iteration", problem["P"], problem["R"], problem["gamma"])
    assert not result.mutated, f"value_iteration modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    check_outputs(result.value, *problem["R"].shape, problem)
    assert_close(result.value[0], ref.value_iteration(**problem)[0], atol=value_atol(problem["R"], problem["gamma"]),
                 what="V_star", inputs=problem)
