"""Hidden tests for ``performance_difference``: J(pi_new) - J(pi_old) through the performance difference lemma."""

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_07.strategies import expected_return, mdp_atol, policy_pairs
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("performance_difference")


def atol_of(case: dict) -> float:
    return mdp_atol(case["R"], case["gamma"]) / (1 - case["gamma"])


def direct_difference(case: dict) -> torch.Tensor:
    """J(pi_new) - J(pi_old) from two value functions (float64), in the case's dtype."""
    P, R, mu0, gamma = case["P"], case["R"], case["mu0"], case["gamma"]
    diff = expected_return(P, R, case["pi_new"], mu0, gamma) - expected_return(P, R, case["pi_old"], mu0, gamma)
    return torch.tensor(diff, dtype=P.dtype)


@pytest.mark.points(3)
@given(case=policy_pairs())
def test_matches_reference(student, case):
    """The performance difference matches on random MDPs and policy pairs, float32 and float64."""
    assert_close(student.performance_difference(**case), ref.performance_difference(**case), atol=atol_of(case),
                 inputs=case)


@pytest.mark.points(2)
@settings(max_examples=15)
@given(case=policy_pairs())
def test_equals_the_difference_of_returns(student, case):
    """The lemma's value equals J(pi_new) - J(pi_old), each J = mu0 . V computed from its own Bellman equation."""
    assert_close(student.performance_difference(**case), direct_difference(case),
                 what="J(pi_new) - J(pi_old)", atol=atol_of(case), inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=policy_pairs())
def test_antisymmetric(student, case):
    """Swapping the policies flips the sign, and the difference of a policy with itself is 0 (values checked too)."""
    swapped = {**case, "pi_old": case["pi_new"], "pi_new": case["pi_old"]}
    assert_close(student.performance_difference(**swapped), -direct_difference(case),
                 what="J(pi_old) - J(pi_new) with the policies swapped", atol=atol_of(case), inputs=swapped)
    same = {**case, "pi_new": case["pi_old"].clone()}
    assert_close(student.performance_difference(**same), torch.zeros((), dtype=case["P"].dtype),
                 what="the difference of pi_old with itself", atol=atol_of(case), inputs=same)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=policy_pairs(gammas=(0.0,)))
def test_gamma_zero(student, case):
    """With gamma = 0, J(pi_new) - J(pi_old) = sum_s mu0(s) sum_a (pi_new - pi_old)(a|s) R(s, a)."""
    d = {k: v.double() for k, v in case.items() if isinstance(v, torch.Tensor)}
    expected = (d["mu0"] * ((d["pi_new"] - d["pi_old"]) * d["R"]).sum(dim=1)).sum().to(case["R"].dtype)
    assert_close(student.performance_difference(**case), expected, what="the difference with gamma = 0",
                 atol=atol_of(case), inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=policy_pairs())
def test_does_not_modify_inputs(student, case):
    """performance_difference leaves its input tensors unchanged (and returns the right value)."""
    result = student.call("performance_difference", **case)
    assert not result.mutated, (
        f"performance_difference modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.performance_difference(**case), atol=atol_of(case), inputs=case)
