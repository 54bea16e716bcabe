"""Hidden tests for ``surrogate_advantage``: L = 1/(1-gamma) E_{d^pi_old} E_{pi_new}[A^pi_old]."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_07.strategies import expected_return, mdp_atol, policy_pairs
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("surrogate_advantage")


def atol_of(case: dict) -> float:
    # the surrogate carries one more factor 1 / (1 - gamma) than the advantages
    return mdp_atol(case["R"], case["gamma"]) / (1 - case["gamma"])


@pytest.mark.points(3)
@given(case=policy_pairs())
def test_matches_reference(student, case):
    """The surrogate matches on random MDPs and policy pairs (gamma in {0, 0.5, 0.9, 0.95}), float32 and float64."""
    assert_close(student.surrogate_advantage(**case), ref.surrogate_advantage(**case), atol=atol_of(case),
                 inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=policy_pairs())
def test_zero_for_the_old_policy(student, case):
    """L_{pi_old}(pi_old) = 0, and L_{pi_old}(pi_new) has the right value."""
    assert_close(student.surrogate_advantage(**case), ref.surrogate_advantage(**case), atol=atol_of(case),
                 inputs=case)
    same = {**case, "pi_new": case["pi_old"].clone()}
    assert_close(student.surrogate_advantage(**same), torch.zeros((), dtype=case["P"].dtype),
                 what="L_{pi_old}(pi_old)", atol=atol_of(case), inputs=same)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=policy_pairs(), alpha=st.sampled_from([0.25, 0.5, 0.8]))
def test_linear_in_the_new_policy(student, case, alpha):
    """The surrogate is linear in pi_new: L((1-a) pi_1 + a pi_2) = (1-a) L(pi_1) + a L(pi_2)."""
    pi_1, pi_2 = case["pi_new"], case["pi_old"].flip(1) / case["pi_old"].flip(1).sum(1, keepdim=True)
    mixed = {**case, "pi_new": (1 - alpha) * pi_1 + alpha * pi_2}
    got = student.surrogate_advantage(**mixed)
    assert_close(got, ref.surrogate_advantage(**mixed), atol=atol_of(case), inputs=mixed)
    parts = [student.surrogate_advantage(**{**case, "pi_new": pi}) for pi in (pi_1, pi_2)]
    expected = ((1 - alpha) * parts[0].double() + alpha * parts[1].double()).to(got.dtype)
    assert_close(got, expected, what="the surrogate of a mixture of pi_1 and pi_2", atol=atol_of(case),
                 inputs={**mixed, "pi_1": pi_1, "pi_2": pi_2, "alpha": alpha})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=policy_pairs(gammas=(0.0,)))
def test_gamma_zero(student, case):
    """With gamma = 0, L = sum_s mu0(s) sum_a pi_new(a|s) (R(s, a) - sum_a' pi_old(a'|s) R(s, a'))."""
    R, d = case["R"].double(), {k: v.double() for k, v in case.items() if isinstance(v, torch.Tensor)}
    adv = R - (d["pi_old"] * R).sum(dim=1, keepdim=True)
    expected = (d["mu0"] * (d["pi_new"] * adv).sum(dim=1)).sum().to(case["R"].dtype)
    assert_close(student.surrogate_advantage(**case), expected, what="the surrogate with gamma = 0",
                 atol=atol_of(case), inputs=case)


@pytest.mark.points(2)
@settings(max_examples=15)
@given(case=policy_pairs(dtype=torch.float64, gammas=(0.5, 0.9)), alpha=st.sampled_from([1e-3, 1e-2]))
def test_first_order_agreement_for_cpi_mixtures(student, case, alpha):
    """For a CPI mixture pi_a, |J(pi_a) - J(pi_old) - L(pi_a)| <= 2 gamma eps a^2 / (1-gamma)^2 (Kakade-Langford)."""
    P, R, mu0, gamma = case["P"], case["R"], case["mu0"], case["gamma"]
    pi_old, pi_target = case["pi_old"], case["pi_new"]
    mixture = (1 - alpha) * pi_old + alpha * pi_target
    mixed = {**case, "pi_new": mixture}
    got = student.surrogate_advantage(**mixed)
    improvement = expected_return(P, R, mixture, mu0, gamma) - expected_return(P, R, pi_old, mu0, gamma)
    eps = float((pi_target * ref.advantage_function(P, R, pi_old, gamma)).sum(dim=1).abs().max())
    bound = 2 * gamma * eps * alpha ** 2 / (1 - gamma) ** 2 + 1e-9 * max(1.0, float(R.abs().max())) / (1 - gamma) ** 2
    gap = abs(improvement - float(got))
    assert gap <= bound, (
        f"for the mixture policy (alpha = {alpha}) the surrogate is {float(got):.6g}, but the true improvement "
        f"J(pi_a) - J(pi_old) is {improvement:.6g}: they should differ by at most 2 gamma eps alpha^2 / (1-gamma)^2 "
        f"= {bound:.3g} (eps = {eps:.4g})\n  inputs: {mixed}")


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=policy_pairs())
def test_does_not_modify_inputs(student, case):
    """surrogate_advantage leaves its input tensors unchanged (and returns the right value)."""
    result = student.call("surrogate_advantage", **case)
    assert not result.mutated, (
        f"surrogate_advantage modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.surrogate_advantage(**case), atol=atol_of(case), inputs=case)
