"""Hidden tests for ``q_from_v``: Q[s, a] = R[s, a] + gamma sum_s' P[s, a, s'] V[s']."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_05.strategies import (discounts, largest, mdps_with_policy, scaled_atol, tabular_mdps,
                                             value_atol, value_vectors)
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("q_from_v")


@st.composite
def lookahead_problems(draw):
    """``{"P", "R", "V", "gamma"}`` with an arbitrary V (|V| <= 50)."""
    mdp = draw(tabular_mdps())
    V = draw(value_vectors(mdp["R"].shape[0], mdp["R"].dtype))
    return {**mdp, "V": V, "gamma": draw(discounts())}


def q_atol(problem: dict) -> float:
    return scaled_atol(problem["R"].dtype, largest(problem["R"]) + largest(problem["V"]))


@pytest.mark.points(3)
@given(problem=lookahead_problems())
def test_matches_reference(student, problem):
    """Q matches on random MDPs and arbitrary value vectors, float32 and float64."""
    assert_close(student.q_from_v(**problem), ref.q_from_v(**problem), atol=q_atol(problem), inputs=problem)


@pytest.mark.points(2)
@given(problem=mdps_with_policy())
def test_policy_average_of_q_is_v(student, problem):
    """With V = V^pi, averaging Q over the policy gives V back: sum_a pi[s, a] Q[s, a] = V[s]."""
    mdp, pi, gamma = problem
    V = ref.policy_evaluation(**mdp, pi=pi, gamma=gamma)
    kwargs = {**mdp, "V": V, "gamma": gamma}
    got = student.q_from_v(**kwargs)
    shape = tuple(mdp["R"].shape)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == shape, (
        f"expected a tensor of shape {shape}, got {got!r}")
    averaged = (pi.double() * got.double()).sum(dim=1)
    assert_close(averaged, V.double(), atol=value_atol(mdp["R"], gamma) + scaled_atol(V.dtype, largest(V)),
                 rtol=1e-4 if V.dtype == torch.float32 else 1e-7,
                 what="sum_a pi[s, a] Q[s, a] for Q = q_from_v(P, R, V^pi, gamma)", inputs={**kwargs, "pi": pi})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=lookahead_problems())
def test_gamma_zero_gives_the_rewards(student, problem):
    """With gamma = 0, Q = R whatever V is."""
    kwargs = {**problem, "gamma": 0.0}
    assert_close(student.q_from_v(**kwargs), problem["R"], what="Q with gamma = 0", inputs=kwargs)


@pytest.mark.points(1)
@given(problem=lookahead_problems(), c=st.sampled_from([-4.0, 1.0, 10.0]))
def test_shifting_v_shifts_q_by_gamma_c(student, problem, c):
    """Adding c to every V[s'] adds gamma * c to every Q[s, a] (each P[s, a] sums to 1)."""
    kwargs = {**problem, "V": problem["V"] + c}
    expected = ref.q_from_v(**problem) + problem["gamma"] * c
    assert_close(student.q_from_v(**kwargs), expected, atol=q_atol(kwargs) + scaled_atol(problem["R"].dtype, abs(c)),
                 what=f"Q after adding {c} to V", inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=lookahead_problems())
def test_does_not_modify_inputs(student, problem):
    """q_from_v leaves P, R and V unchanged (and returns the right Q)."""
    result = student.call("q_from_v", problem["P"], problem["R"], problem["V"], problem["gamma"])
    assert not result.mutated, f"q_from_v modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.q_from_v(**problem), atol=q_atol(problem), inputs=problem)
