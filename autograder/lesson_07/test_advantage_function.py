"""Hidden tests for ``advantage_function``: A^pi = Q^pi - V^pi with V^pi from an exact linear solve."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_07.strategies import mdp_atol, mdps, policies, values
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("advantage_function")


@st.composite
def mdp_and_policy(draw, **kwargs):
    mdp = draw(mdps(**kwargs))
    return {"P": mdp["P"], "R": mdp["R"], "pi": draw(policies(mdp)), "gamma": mdp["gamma"]}


def atol_of(case: dict) -> float:
    return mdp_atol(case["R"], case["gamma"])


@pytest.mark.points(3)
@given(case=mdp_and_policy())
def test_matches_reference(student, case):
    """Advantages match on random MDPs and policies (S <= 5, A <= 4, gamma in {0, 0.5, 0.9, 0.95}), float32/64."""
    assert_close(student.advantage_function(**case), ref.advantage_function(**case), atol=atol_of(case), inputs=case)


@pytest.mark.points(1)
@settings(max_examples=15)
@given(case=mdp_and_policy())
def test_policy_average_is_zero(student, case):
    """In every state the policy's own actions have average advantage 0: sum_a pi(a|s) A(s, a) = 0 (and A is right)."""
    got = student.advantage_function(**case)
    assert_close(got, ref.advantage_function(**case), atol=atol_of(case), inputs=case)
    average = (case["pi"].double() * got.double()).sum(dim=1)
    assert_close(average, torch.zeros_like(average), what="sum_a pi(a|s) A(s, a) per state",
                 atol=atol_of(case) * case["R"].shape[1], inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=mdp_and_policy(gammas=(0.0,)))
def test_gamma_zero_is_reward_minus_policy_average(student, case):
    """With gamma = 0, A(s, a) = R(s, a) - sum_a' pi(a'|s) R(s, a') (no future)."""
    R, pi = case["R"], case["pi"]
    expected = (R.double() - (pi.double() * R.double()).sum(dim=1, keepdim=True)).to(R.dtype)
    assert_close(student.advantage_function(**case), expected, what="the advantages with gamma = 0",
                 atol=atol_of(case), inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=mdp_and_policy(dtype=torch.float64, gammas=(0.99,)))
def test_gamma_near_one_is_exact(student, case):
    """With gamma = 0.99 the advantages are still exact (solve the Bellman equation; a few sweeps are not enough)."""
    assert_close(student.advantage_function(**case), ref.advantage_function(**case), atol=atol_of(case),
                 inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=mdp_and_policy(dtype=torch.float64))
def test_greedy_policy_improves(student, case):
    """Acting greedily w.r.t. the advantages never lowers the value in any state (policy improvement theorem)."""
    got = student.advantage_function(**case)
    assert_close(got, ref.advantage_function(**case), atol=atol_of(case), inputs=case)
    greedy = torch.nn.functional.one_hot(got.argmax(dim=1), got.shape[1]).to(torch.float64)
    before = values(case["P"], case["R"], case["pi"], case["gamma"])
    after = values(case["P"], case["R"], greedy, case["gamma"])
    worse = after < before - atol_of(case)
    assert not worse.any(), (f"the greedy policy of your advantages has values {after.tolist()}, lower than the "
                             f"policy's {before.tolist()}\n  inputs: {case}")


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=mdp_and_policy())
def test_does_not_modify_inputs(student, case):
    """advantage_function leaves its input tensors unchanged (and returns the right advantages)."""
    result = student.call("advantage_function", **case)
    assert not result.mutated, (
        f"advantage_function modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.advantage_function(**case), atol=atol_of(case), inputs=case)
