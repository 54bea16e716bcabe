"""Hidden tests for ``ipo_loss``: (h - 1/(2 beta))^2 with h the difference of log-ratios."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_08.preference_strategies import largest_abs, preference_logps, rounding_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("ipo_loss")
BETAS = st.sampled_from([0.05, 0.1, 0.5, 1.0])


def loss_atol(logps: dict, beta: float) -> float:
    """Rounding room: the loss moves by 2 |h - 1/(2 beta)| per unit of error in h."""
    d = {k: v.double() for k, v in logps.items()}
    gap = (d["pi_chosen"] - d["ref_chosen"]) - (d["pi_rejected"] - d["ref_rejected"]) - 1 / (2 * beta)
    return rounding_atol(logps["pi_chosen"].dtype, largest_abs(*logps.values()), 2 * largest_abs(gap) + 1)


@pytest.mark.points(3)
@given(logps=preference_logps(), beta=BETAS)
def test_matches_reference(student, logps, beta):
    """The per-pair losses match (h - 1/(2 beta))^2 on random batches, float32 and float64."""
    got = student.ipo_loss(**logps, beta=beta)
    assert_close(got, ref.ipo_loss(**logps, beta=beta), atol=loss_atol(logps, beta), inputs={**logps, "beta": beta})


@pytest.mark.points(2)
@given(logps=preference_logps(), beta=BETAS, data=st.data())
def test_gradient_matches_reference(student, logps, beta, data):
    """Gradients w.r.t. the policy log-probs match (the reference log-probs are constants)."""
    cotangent = data.draw(tensors(tuple(logps["pi_chosen"].shape), logps["pi_chosen"].dtype, floats(-1, 1)))
    wrt = ["pi_chosen", "pi_rejected"]
    got = student.grad("ipo_loss", (), {**logps, "beta": beta}, wrt=wrt, cotangent=cotangent)
    _, expected = reference_grad(ref.ipo_loss, (), {**logps, "beta": beta}, wrt=wrt, cotangent=cotangent)
    assert_close(got.grads, expected, what="the gradient", inputs={**logps, "beta": beta})


@pytest.mark.points(1)
def test_zero_at_target_margin(student):
    """The loss is 0 when the log-ratio margin equals 1/(2 beta), and grows as its square away from it."""
    zero = torch.zeros(4, dtype=torch.float64)
    margin = torch.tensor([5.0, 5.0, 0.0, 7.0], dtype=torch.float64)  # the target is 1 / (2 * 0.1) = 5
    got = student.ipo_loss(margin, zero, zero, zero, beta=0.1)
    assert_close(got, torch.tensor([0.0, 0.0, 25.0, 4.0], dtype=torch.float64),
                 what="the losses at margins 5, 5, 0, 7 (target 5)", inputs={"pi_chosen": margin, "beta": 0.1})


@pytest.mark.points(1)
@given(logps=preference_logps())
def test_does_not_modify_inputs(student, logps):
    """ipo_loss leaves its input tensors unchanged (and returns the right losses)."""
    result = student.call("ipo_loss", **logps)
    assert not result.mutated, f"ipo_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.ipo_loss(**logps), atol=loss_atol(logps, 0.1), inputs=logps)


@pytest.mark.points(2)
@given(logps=preference_logps(large=True), beta=BETAS)
def test_large_logprobs_are_stable(student, logps, beta):
    """Log-probs near -1e4 (log-ratios within ±20) give finite, accurate losses: work with log-ratios, not exp()."""
    got = student.ipo_loss(**logps, beta=beta)
    expected = ref.ipo_loss(**logps, beta=beta)
    assert_close(got, expected, atol=loss_atol(logps, beta), inputs={**logps, "beta": beta})


@pytest.mark.points(1)
@given(logps=preference_logps(), beta=BETAS)
def test_swapping_chosen_and_rejected_mirrors_the_margin(student, logps, beta):
    """Swapping chosen and rejected turns the loss (h - 1/(2 beta))^2 into (h + 1/(2 beta))^2."""
    swapped = {"pi_chosen": logps["pi_rejected"], "pi_rejected": logps["pi_chosen"],
               "ref_chosen": logps["ref_rejected"], "ref_rejected": logps["ref_chosen"]}
    got = student.ipo_loss(**swapped, beta=beta)
    d = {k: v.double() for k, v in logps.items()}
    h = (d["pi_chosen"] - d["ref_chosen"]) - (d["pi_rejected"] - d["ref_rejected"])
    expected = ((h + 1 / (2 * beta)) ** 2).to(logps["pi_chosen"].dtype)
    assert_close(got, expected, atol=loss_atol(swapped, beta), what="the loss of the swapped pairs",
                 inputs={**swapped, "beta": beta})
