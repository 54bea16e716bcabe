"""Hidden tests for ``dpo_loss``: -(1-ls) logsigmoid(z) - ls logsigmoid(-z) per pair, plus detached implicit rewards."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_08.preference_strategies import largest_abs, preference_logps, rounding_atol
from rlgrade.testing import StudentError, assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("dpo_loss")
BETAS = st.sampled_from([0.05, 0.1, 0.5, 1.0])
LARGE_BETAS = st.sampled_from([100.0, 250.0])
SMOOTHING = st.sampled_from([0.0, 0.1, 0.25, 0.45])


def result_atol(logps: dict, beta: float) -> float:
    """Rounding room: losses and rewards move by at most beta per unit of error in a log-ratio."""
    return rounding_atol(logps["pi_chosen"].dtype, largest_abs(*logps.values()), beta)


def swap(logps: dict) -> dict:
    """The same pairs with chosen and rejected exchanged (z -> -z)."""
    return {"pi_chosen": logps["pi_rejected"], "pi_rejected": logps["pi_chosen"],
            "ref_chosen": logps["ref_rejected"], "ref_rejected": logps["ref_chosen"]}


@pytest.mark.points(3)
@given(logps=preference_logps(), beta=BETAS, label_smoothing=SMOOTHING)
def test_matches_reference(student, logps, beta, label_smoothing):
    """(losses, chosen_rewards, rejected_rewards) match on random batches (float32/float64, several beta and ls)."""
    kwargs = {**logps, "beta": beta, "label_smoothing": label_smoothing}
    got = student.dpo_loss(**kwargs)
    assert_close(got, ref.dpo_loss(**kwargs), atol=result_atol(logps, beta), inputs=kwargs)


@pytest.mark.points(2)
@given(logps=preference_logps(), beta=BETAS, label_smoothing=SMOOTHING, data=st.data())
def test_gradient_matches_reference(student, logps, beta, label_smoothing, data):
    """Gradients of the losses w.r.t. pi_chosen and pi_rejected match (the reference log-probs are constants)."""
    kwargs = {**logps, "beta": beta, "label_smoothing": label_smoothing}
    cotangent = data.draw(tensors(tuple(logps["pi_chosen"].shape), logps["pi_chosen"].dtype, floats(-1, 1)))
    wrt = ["pi_chosen", "pi_rejected"]
    got = student.grad("dpo_loss", (), kwargs, wrt=wrt, output=0, cotangent=cotangent)
    _, expected = reference_grad(ref.dpo_loss, (), kwargs, wrt=wrt, output=0, cotangent=cotangent)
    assert_close(got.grads, expected, what="d losses / d (pi_chosen, pi_rejected)", inputs=kwargs)


@pytest.mark.points(1)
@given(logps=preference_logps(max_batch=3), beta=BETAS)
def test_rewards_are_detached(student, logps, beta):
    """chosen_rewards and rejected_rewards are beta * (pi - ref), detached: no gradient flows through them."""
    kwargs = {**logps, "beta": beta}
    _, chosen_rewards, rejected_rewards = student.dpo_loss(**kwargs)
    _, expected_chosen, expected_rejected = ref.dpo_loss(**kwargs)
    assert_close((chosen_rewards, rejected_rewards), (expected_chosen, expected_rejected),
                 atol=result_atol(logps, beta), what="(chosen_rewards, rejected_rewards)", inputs=kwargs)
    for output, name in ((1, "chosen_rewards"), (2, "rejected_rewards")):
        try:
            student.grad("dpo_loss", (), kwargs, wrt=["pi_chosen", "pi_rejected"], output=output)
        except StudentError as exc:
            if "not differentiable" in str(exc):
                continue
            raise
        raise AssertionError(f"{name} still carries the policy's gradient: return it detached (.detach()), "
                             f"it is only logged\n  inputs: {kwargs}")


@pytest.mark.points(1)
@given(dtype=float_dtypes(), data=st.data(), beta=BETAS, label_smoothing=SMOOTHING)
def test_log_two_when_policy_equals_reference(student, dtype, data, beta, label_smoothing):
    """When the policy equals the reference, z = 0: every loss is log 2 and both rewards are 0."""
    batch = data.draw(st.integers(1, 5))
    chosen = data.draw(tensors((batch,), dtype, floats(-50.0, 0.0)))
    rejected = data.draw(tensors((batch,), dtype, floats(-50.0, 0.0)))
    kwargs = {"pi_chosen": chosen, "pi_rejected": rejected, "ref_chosen": chosen.clone(),
              "ref_rejected": rejected.clone(), "beta": beta, "label_smoothing": label_smoothing}
    zeros = torch.zeros(batch, dtype=dtype)
    expected = (torch.full((batch,), math.log(2.0), dtype=dtype), zeros, zeros)
    assert_close(student.dpo_loss(**kwargs), expected, what="(losses, chosen_rewards, rejected_rewards)",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(logps=preference_logps(), beta=BETAS, label_smoothing=SMOOTHING)
def test_swapping_chosen_and_rejected(student, logps, beta, label_smoothing):
    """Swapping chosen and rejected swaps the rewards; loss(z) + loss(-z) = softplus(z) + softplus(-z) for any ls."""
    kwargs = {**logps, "beta": beta, "label_smoothing": label_smoothing}
    swapped = {**swap(logps), "beta": beta, "label_smoothing": label_smoothing}
    losses, chosen_rewards, rejected_rewards = student.dpo_loss(**kwargs)
    swapped_losses, swapped_chosen, swapped_rejected = student.dpo_loss(**swapped)
    atol = result_atol(logps, beta)
    assert_close((swapped_chosen, swapped_rejected), (rejected_rewards, chosen_rewards), atol=atol,
                 what="(chosen_rewards, rejected_rewards) of the swapped pairs", inputs=swapped)
    d = {k: v.double() for k, v in logps.items()}
    z = beta * ((d["pi_chosen"] - d["ref_chosen"]) - (d["pi_rejected"] - d["ref_rejected"]))
    expected = (F.softplus(z) + F.softplus(-z)).to(logps["pi_chosen"].dtype)
    assert_close(losses + swapped_losses, expected, atol=2 * atol, what="loss of a pair + loss of the swapped pair",
                 inputs=kwargs)


@pytest.mark.points(2)
@given(logps=preference_logps(large=True), beta=BETAS, label_smoothing=SMOOTHING)
def test_large_logprobs_are_stable(student, logps, beta, label_smoothing):
    """Log-probs near -1e4 (log-ratios within ±20) give finite, accurate results: work with log-ratios, not exp()."""
    kwargs = {**logps, "beta": beta, "label_smoothing": label_smoothing}
    got = student.dpo_loss(**kwargs)
    assert_close(got, ref.dpo_loss(**kwargs), atol=result_atol(logps, beta), inputs=kwargs)


@pytest.mark.points(2)
@given(logps=preference_logps(low=-40.0), beta=LARGE_BETAS, label_smoothing=SMOOTHING)
def test_large_margins_are_stable(student, logps, beta, label_smoothing):
    """|z| up to 1e4 (large beta) gives finite, accurate losses, about |z| for a badly ranked pair: use logsigmoid."""
    kwargs = {**logps, "beta": beta, "label_smoothing": label_smoothing}
    got = student.dpo_loss(**kwargs)
    assert_close(got, ref.dpo_loss(**kwargs), atol=result_atol(logps, beta), inputs=kwargs)


@pytest.mark.points(1)
@given(logps=preference_logps(), beta=BETAS, label_smoothing=SMOOTHING)
def test_does_not_modify_inputs(student, logps, beta, label_smoothing):
    """dpo_loss leaves its input tensors unchanged (and returns the right results)."""
    kwargs = {**logps, "beta": beta, "label_smoothing": label_smoothing}
    result = student.call("dpo_loss", **kwargs)
    assert not result.mutated, f"dpo_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.dpo_loss(**kwargs), atol=result_atol(logps, beta), inputs=kwargs)
