"""Hidden tests for ``policy_evaluation``: V = (I - gamma P_pi)^{-1} R_pi."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_05.strategies import mdps_with_policy, policy_matrices, value_atol
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("policy_evaluation")


@pytest.mark.points(3)
@given(problem=mdps_with_policy())
def test_matches_reference(student, problem):
    """V^pi matches on random MDPs and (stochastic or deterministic) policies, gamma up to 0.99, float32/float64."""
    mdp, pi, gamma = problem
    kwargs = {**mdp, "pi": pi, "gamma": gamma}
    assert_close(student.policy_evaluation(**kwargs), ref.policy_evaluation(**kwargs),
                 atol=value_atol(mdp["R"], gamma), inputs=kwargs)


@pytest.mark.points(2)
@given(problem=mdps_with_policy())
def test_bellman_expectation_equation_holds(student, problem):
    """The returned V satisfies V = R_pi + gamma P_pi V (checked in float64 on your values)."""
    mdp, pi, gamma = problem
    kwargs = {**mdp, "pi": pi, "gamma": gamma}
    got = student.policy_evaluation(**kwargs)
    n_states = mdp["R"].shape[0]
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == (n_states,), (
        f"expected a tensor of shape ({n_states},), got {got!r}")
    P_pi, R_pi = policy_matrices(mdp["P"], mdp["R"], pi)
    V = got.double()
    assert_close(V, R_pi + gamma * P_pi @ V, atol=value_atol(mdp["R"], gamma),
                 what="R_pi + gamma P_pi V (the right-hand side of the Bellman equation, for your V)", inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=mdps_with_policy())
def test_gamma_zero_gives_the_expected_reward(student, problem):
    """With gamma = 0 the value is the expected one-step reward R_pi[s] = sum_a pi[s, a] R[s, a]."""
    mdp, pi, _ = problem
    kwargs = {**mdp, "pi": pi, "gamma": 0.0}
    expected = policy_matrices(mdp["P"], mdp["R"], pi)[1].to(mdp["R"].dtype)
    assert_close(student.policy_evaluation(**kwargs), expected, atol=value_atol(mdp["R"], 0.0),
                 what="V with gamma = 0", inputs=kwargs)


@pytest.mark.points(1)
@given(problem=mdps_with_policy(), c=st.sampled_from([-1.0, 0.5, 2.0]))
def test_adding_a_constant_reward(student, problem, c):
    """Adding c to every reward adds c / (1 - gamma) to every value."""
    mdp, pi, gamma = problem
    kwargs = {**mdp, "R": mdp["R"] + c, "pi": pi, "gamma": gamma}
    expected = ref.policy_evaluation(**mdp, pi=pi, gamma=gamma) + c / (1 - gamma)
    assert_close(student.policy_evaluation(**kwargs), expected, atol=value_atol(kwargs["R"], gamma),
                 what=f"V after adding {c} to every reward", inputs=kwargs)


CHAIN_CASES = [  # (gamma, dtype): a deterministic chain 0 -> 1 -> 2 (absorbing), rewards 1, 0.5, 0.25
    (0.0, torch.float64), (0.5, torch.float32), (0.9, torch.float64), (0.99, torch.float32), (0.99, torch.float64),
]


@pytest.mark.points(1)
def test_chain_with_an_absorbing_state(student):
    """A deterministic chain into an absorbing state: V(2) = r2 / (1 - gamma), V(1) = r1 + gamma V(2), ..."""
    for gamma, dtype in CHAIN_CASES:
        P = torch.zeros(3, 2, 3, dtype=dtype)
        P[0, :, 1] = 1.0
        P[1, :, 2] = 1.0
        P[2, :, 2] = 1.0
        R = torch.tensor([[1.0, 1.0], [0.5, 0.5], [0.25, 0.25]], dtype=dtype)
        pi = torch.tensor([[0.3, 0.7], [1.0, 0.0], [0.5, 0.5]], dtype=dtype)
        v2 = 0.25 / (1 - gamma)
        v1 = 0.5 + gamma * v2
        expected = torch.tensor([1.0 + gamma * v1, v1, v2], dtype=torch.float64).to(dtype)
        kwargs = {"P": P, "R": R, "pi": pi, "gamma": gamma}
        assert_close(student.policy_evaluation(**kwargs), expected, atol=value_atol(R, gamma),
                     what=f"the values of the chain (gamma = {gamma}, {dtype})", inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=mdps_with_policy())
def test_does_not_modify_inputs(student, problem):
    """policy_evaluation leaves P, R and pi unchanged (and returns the right values)."""
    mdp, pi, gamma = problem
    result = student.call("policy_evaluation", mdp["P"], mdp["R"], pi, gamma)
    assert not result.mutated, (
        f"policy_evaluation modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.policy_evaluation(**mdp, pi=pi, gamma=gamma), atol=value_atol(mdp["R"], gamma),
                 inputs={**mdp, "pi": pi, "gamma": gamma})
