"""Hidden tests for ``discounted_occupancy``: d = (1 - gamma) (I - gamma P_pi^T)^{-1} mu0."""

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_05.strategies import mdps_with_policy, policy_matrices, scaled_atol, value_atol
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("discounted_occupancy")


def occupancy_atol(dtype: torch.dtype, gamma: float) -> float:
    """d is a distribution (entries <= 1); rounding grows with the condition number of I - gamma P_pi^T."""
    return scaled_atol(dtype, (1.0 + gamma) / (1.0 - gamma))


def unpack(problem):
    mdp, pi, mu0, gamma = problem
    return {"P": mdp["P"], "pi": pi, "mu0": mu0, "gamma": gamma}, mdp["R"]


@pytest.mark.points(3)
@given(problem=mdps_with_policy(start=True))
def test_matches_reference(student, problem):
    """d matches on random MDPs, policies and start distributions, gamma up to 0.99, float32 and float64."""
    kwargs, _ = unpack(problem)
    assert_close(student.discounted_occupancy(**kwargs), ref.discounted_occupancy(**kwargs),
                 atol=occupancy_atol(kwargs["P"].dtype, kwargs["gamma"]), inputs=kwargs)


@pytest.mark.points(1)
@given(problem=mdps_with_policy(start=True))
def test_is_a_probability_distribution(student, problem):
    """d is a probability distribution over states: every entry >= 0 and the entries sum to 1."""
    kwargs, _ = unpack(problem)
    got = student.discounted_occupancy(**kwargs)
    n_states = kwargs["mu0"].shape[0]
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == (n_states,), (
        f"expected a tensor of shape ({n_states},), got {got!r}")
    atol = occupancy_atol(kwargs["P"].dtype, kwargs["gamma"])
    total = got.double().sum()
    assert_close(total, torch.tensor(1.0, dtype=torch.float64), atol=atol, what="the sum of d", inputs=kwargs)
    assert bool((got.double() >= -atol).all()), f"d has a negative entry: {got}" + f"\n  inputs: {kwargs}"


@pytest.mark.points(2)
@given(problem=mdps_with_policy(start=True))
def test_flow_equation_holds(student, problem):
    """The returned d satisfies its flow equation d = (1 - gamma) mu0 + gamma P_pi^T d (checked in float64)."""
    kwargs, R = unpack(problem)
    got = student.discounted_occupancy(**kwargs)
    n_states = kwargs["mu0"].shape[0]
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == (n_states,), (
        f"expected a tensor of shape ({n_states},), got {got!r}")
    gamma = kwargs["gamma"]
    P_pi, _ = policy_matrices(kwargs["P"], R, kwargs["pi"])
    d = got.double()
    assert_close(d, (1 - gamma) * kwargs["mu0"].double() + gamma * P_pi.T @ d,
                 atol=occupancy_atol(kwargs["P"].dtype, gamma),
                 what="(1 - gamma) mu0 + gamma P_pi^T d (the right-hand side of the flow equation, for your d)",
                 inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=mdps_with_policy(start=True))
def test_gamma_zero_gives_the_start_distribution(student, problem):
    """With gamma = 0 only t = 0 counts: d = mu0."""
    kwargs, _ = unpack(problem)
    kwargs["gamma"] = 0.0
    assert_close(student.discounted_occupancy(**kwargs), kwargs["mu0"], what="d with gamma = 0", inputs=kwargs)


@pytest.mark.points(2)
@given(problem=mdps_with_policy(start=True))
def test_expected_return_identity(student, problem):
    """Rewards averaged over d give the expected return: sum_s d[s] R_pi[s] / (1 - gamma) = mu0 . V^pi."""
    kwargs, R = unpack(problem)
    gamma = kwargs["gamma"]
    got = student.discounted_occupancy(**kwargs)
    n_states = kwargs["mu0"].shape[0]
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == (n_states,), (
        f"expected a tensor of shape ({n_states},), got {got!r}")
    _, R_pi = policy_matrices(kwargs["P"], R, kwargs["pi"])
    V = ref.policy_evaluation(kwargs["P"], R, kwargs["pi"], gamma).double()
    got_return = (got.double() @ R_pi) / (1 - gamma)
    expected = kwargs["mu0"].double() @ V
    assert_close(got_return, expected, atol=value_atol(R, gamma), rtol=1e-4,
                 what="sum_s d[s] R_pi[s] / (1 - gamma) (should be the expected return mu0 . V^pi)",
                 inputs={**kwargs, "R": R})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=mdps_with_policy(start=True))
def test_does_not_modify_inputs(student, problem):
    """discounted_occupancy leaves P, pi and mu0 unchanged (and returns the right d)."""
    kwargs, _ = unpack(problem)
    result = student.call("discounted_occupancy", kwargs["P"], kwargs["pi"], kwargs["mu0"], kwargs["gamma"])
    assert not result.mutated, (
        f"discounted_occupancy modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.discounted_occupancy(**kwargs),
                 atol=occupancy_atol(kwargs["P"].dtype, kwargs["gamma"]), inputs=kwargs)
