"""Hidden tests for ``kto_loss``: lambda (1 - sigmoid(+-beta (r - z0))) per example, z0 = max(kl_ref, 0) a constant."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_08.preference_strategies import kto_batches, largest_abs, rounding_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("kto_loss")
BETAS = st.sampled_from([0.05, 0.1, 0.5, 1.0])
LAMBDAS = st.sampled_from([(1.0, 1.0), (1.5, 1.0), (1.0, 0.25)])


def kwargs_of(batch: dict, beta: float, lambdas: tuple[float, float]) -> dict:
    return {**batch, "beta": beta, "lambda_d": lambdas[0], "lambda_u": lambdas[1]}


def loss_atol(batch: dict, beta: float, lambdas: tuple[float, float]) -> float:
    """Rounding room: a loss moves by at most lambda * beta / 4 per unit of error in r = pi - ref."""
    magnitude = largest_abs(batch["pi_logps"], batch["ref_logps"], batch["kl_ref"])
    return rounding_atol(batch["pi_logps"].dtype, magnitude, beta * max(lambdas))


@pytest.mark.points(3)
@given(batch=kto_batches(), beta=BETAS, lambdas=LAMBDAS)
def test_matches_reference(student, batch, beta, lambdas):
    """Per-example losses match on random batches (float32/float64, mixed labels, kl_ref of either sign, weights)."""
    kwargs = kwargs_of(batch, beta, lambdas)
    got = student.kto_loss(**kwargs)
    assert_close(got, ref.kto_loss(**kwargs), atol=loss_atol(batch, beta, lambdas), inputs=kwargs)


@pytest.mark.points(2)
@given(batch=kto_batches(), beta=BETAS, lambdas=LAMBDAS, data=st.data())
def test_gradient_matches_reference(student, batch, beta, lambdas, data):
    """Gradients w.r.t. pi_logps match (ref_logps and kl_ref are constants)."""
    kwargs = kwargs_of(batch, beta, lambdas)
    logps = batch["pi_logps"]
    cotangent = data.draw(tensors(tuple(logps.shape), logps.dtype, floats(-1, 1)))
    got = student.grad("kto_loss", (), kwargs, wrt=["pi_logps"], cotangent=cotangent)
    _, expected = reference_grad(ref.kto_loss, (), kwargs, wrt=["pi_logps"], cotangent=cotangent)
    assert_close(got.grads, expected, what="d losses / d pi_logps", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), data=st.data(), kl_ref=st.sampled_from([-3.0, -0.5, 0.0, 0.5, 2.0]),
       lambdas=LAMBDAS, beta=BETAS)
def test_half_the_weight_at_the_reference_point(student, dtype, data, kl_ref, lambdas, beta):
    """When r = pi - ref equals z0 = max(kl_ref, 0), every loss is lambda / 2 (a negative kl_ref counts as 0)."""
    batch = data.draw(st.integers(1, 5))
    quarters = data.draw(st.lists(st.integers(-80, 0), min_size=batch, max_size=batch))
    ref_logps = torch.tensor(quarters, dtype=dtype) / 4  # exact, so pi - ref == z0 exactly
    desirable = torch.tensor(data.draw(st.lists(st.booleans(), min_size=batch, max_size=batch)))
    kwargs = {"pi_logps": ref_logps + max(kl_ref, 0.0), "ref_logps": ref_logps, "desirable": desirable,
              "kl_ref": torch.tensor(kl_ref, dtype=dtype), "beta": beta, "lambda_d": lambdas[0],
              "lambda_u": lambdas[1]}
    expected = torch.where(desirable, torch.tensor(lambdas[0] / 2), torch.tensor(lambdas[1] / 2)).to(dtype)
    assert_close(student.kto_loss(**kwargs), expected, what="the losses at r == z0", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=kto_batches(kl_low=-5.0, kl_high=-2.0 ** -10), beta=BETAS, lambdas=LAMBDAS)
def test_negative_kl_ref_counts_as_zero(student, batch, beta, lambdas):
    """A negative kl_ref gives the same (correct) losses as kl_ref = 0: z0 = max(kl_ref, 0)."""
    kwargs = kwargs_of(batch, beta, lambdas)
    at_zero = {**kwargs, "kl_ref": torch.zeros((), dtype=batch["kl_ref"].dtype)}
    assert_close(student.kto_loss(**kwargs), ref.kto_loss(**at_zero), atol=loss_atol(batch, beta, lambdas),
                 what="the losses with a negative kl_ref (compared with those for kl_ref = 0)", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=kto_batches(), beta=BETAS, lambdas=LAMBDAS)
def test_flipping_the_labels(student, batch, beta, lambdas):
    """Each loss lies in [0, lambda], and loss_desirable / lambda_d + loss_undesirable / lambda_u = 1 for the same r."""
    kwargs = kwargs_of(batch, beta, lambdas)
    good = student.kto_loss(**{**kwargs, "desirable": torch.ones_like(batch["desirable"])})
    bad = student.kto_loss(**{**kwargs, "desirable": torch.zeros_like(batch["desirable"])})
    atol = loss_atol(batch, beta, lambdas)
    for losses, weight, label in ((good, lambdas[0], "desirable"), (bad, lambdas[1], "undesirable")):
        inside = bool(((losses >= -atol) & (losses <= weight + atol)).all())
        assert inside, f"the {label} losses {losses.tolist()} leave [0, {weight}]\n  inputs: {kwargs}"
    total = good.double() / lambdas[0] + bad.double() / lambdas[1]
    assert_close(total.to(good.dtype), torch.ones_like(good), atol=2 * atol / min(lambdas),
                 what="loss_desirable / lambda_d + loss_undesirable / lambda_u", inputs=kwargs)


@pytest.mark.points(2)
@given(batch=kto_batches(large=True), beta=BETAS, lambdas=LAMBDAS)
def test_large_logprobs_are_stable(student, batch, beta, lambdas):
    """Log-probs near -1e4 (log-ratios within ±20) give finite, accurate losses: work with r = pi - ref, not exp()."""
    kwargs = kwargs_of(batch, beta, lambdas)
    got = student.kto_loss(**kwargs)
    assert_close(got, ref.kto_loss(**kwargs), atol=loss_atol(batch, beta, lambdas), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=kto_batches())
def test_does_not_modify_inputs(student, batch):
    """kto_loss leaves its input tensors unchanged (and returns the right losses)."""
    result = student.call("kto_loss", **batch)
    assert not result.mutated, f"kto_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.kto_loss(**batch), atol=loss_atol(batch, 0.1, (1.0, 1.0)), inputs=batch)
