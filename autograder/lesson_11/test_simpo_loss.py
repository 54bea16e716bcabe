"""Hidden tests for ``simpo_loss``: -logsigmoid(beta * (avg_c - avg_r) - gamma) per pair, no reference model."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_11.strategies import avg_logprob_pairs, largest_abs, rounding_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("simpo_loss")
BETAS = st.sampled_from([0.5, 2.0, 2.5, 10.0])
GAMMAS = st.sampled_from([0.0, 0.5, 1.0, 1.6])


def loss_atol(pairs: dict, beta: float) -> float:
    """Rounding room: the loss moves by at most beta per unit of error in an average log-prob."""
    logps = (pairs["pi_chosen_avg"], pairs["pi_rejected_avg"])
    return rounding_atol(logps[0].dtype, largest_abs(*logps), beta)


@pytest.mark.points(3)
@given(pairs=avg_logprob_pairs(), beta=BETAS, gamma=GAMMAS)
def test_matches_reference(student, pairs, beta, gamma):
    """The per-pair losses match on random batches (float32/float64, several beta and gamma)."""
    kwargs = {**pairs, "beta": beta, "gamma": gamma}
    assert_close(student.simpo_loss(**kwargs), ref.simpo_loss(**kwargs), atol=loss_atol(pairs, beta), inputs=kwargs)


@pytest.mark.points(2)
@given(pairs=avg_logprob_pairs(), beta=BETAS, gamma=GAMMAS, data=st.data())
def test_gradient_matches_reference(student, pairs, beta, gamma, data):
    """Gradients w.r.t. both average log-probs match (-beta sigmoid(-z) and +beta sigmoid(-z))."""
    kwargs = {**pairs, "beta": beta, "gamma": gamma}
    shape, dtype = tuple(pairs["pi_chosen_avg"].shape), pairs["pi_chosen_avg"].dtype
    cotangent = data.draw(tensors(shape, dtype, floats(-1, 1)))
    wrt = ["pi_chosen_avg", "pi_rejected_avg"]
    got = student.grad("simpo_loss", (), kwargs, wrt=wrt, cotangent=cotangent)
    _, expected = reference_grad(ref.simpo_loss, (), kwargs, wrt=wrt, cotangent=cotangent)
    assert_close(got.grads, expected, what="the gradient", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), beta=BETAS, gamma=GAMMAS, data=st.data())
def test_log2_at_the_target_margin(student, dtype, beta, gamma, data):
    """A pair whose scaled margin equals gamma costs log 2; a pair with equal averages costs log(1 + e^gamma)."""
    base = data.draw(st.lists(st.integers(-40, 0), min_size=2, max_size=2))
    rejected = torch.tensor(base, dtype=torch.float64) / 4                 # exact quarters
    chosen = rejected + torch.tensor([gamma / beta, 0.0], dtype=torch.float64)
    kwargs = {"pi_chosen_avg": chosen.to(dtype), "pi_rejected_avg": rejected.to(dtype), "beta": beta,
              "gamma": gamma}
    expected = torch.tensor([math.log(2.0), math.log1p(math.exp(gamma))], dtype=dtype)
    assert_close(student.simpo_loss(**kwargs), expected, what="the losses at margin gamma / beta and at margin 0",
                 atol=loss_atol(kwargs, beta) + 1e-6, inputs=kwargs)


@pytest.mark.points(1)
@given(pairs=avg_logprob_pairs(low=-5.0), shift=st.sampled_from([-3.0, -0.5, 0.25, 2.0]), beta=BETAS, gamma=GAMMAS)
def test_only_the_gap_matters(student, pairs, shift, beta, gamma):
    """Reference-free: adding the same constant to both average log-probs leaves every (right) loss unchanged."""
    shifted = {k: v - abs(shift) for k, v in pairs.items()}
    kwargs = {**shifted, "beta": beta, "gamma": gamma}
    expected = ref.simpo_loss(**pairs, beta=beta, gamma=gamma)
    assert_close(student.simpo_loss(**kwargs), expected, atol=loss_atol(shifted, beta),
                 what="the losses after shifting both averages by the same amount", inputs=kwargs)


@pytest.mark.points(2)
@given(pairs=avg_logprob_pairs(low=-1e4, high=0.0), beta=BETAS, gamma=GAMMAS)
def test_large_margins_are_stable(student, pairs, beta, gamma):
    """Margins up to 1e4 (z up to ±1e5) give finite, accurate losses: use F.logsigmoid, not log(sigmoid(z))."""
    kwargs = {**pairs, "beta": beta, "gamma": gamma}
    got = student.simpo_loss(**kwargs)
    if isinstance(got, torch.Tensor) and got.is_floating_point() and not torch.isfinite(got).all():
        raise AssertionError(f"simpo_loss overflowed for large margins (the exact losses are finite): got {got}\n"
                             f"  inputs: {kwargs}")
    assert_close(got, ref.simpo_loss(**kwargs), atol=loss_atol(pairs, beta), inputs=kwargs)


@pytest.mark.points(1)
@given(pairs=avg_logprob_pairs())
def test_does_not_modify_inputs(student, pairs):
    """simpo_loss leaves its input tensors unchanged (and returns the right losses with the default beta, gamma)."""
    result = student.call("simpo_loss", **pairs)
    assert not result.mutated, f"simpo_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.simpo_loss(**pairs), atol=loss_atol(pairs, 2.0), inputs=pairs)
