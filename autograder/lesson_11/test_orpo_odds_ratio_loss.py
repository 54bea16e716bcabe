"""Hidden tests for ``orpo_odds_ratio_loss``: -logsigmoid(log odds_c - log odds_r), log odds = l - log(1 - e^l)."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_11.strategies import avg_logprob_pairs, largest_abs, near_zero_pairs, rounding_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("orpo_odds_ratio_loss")


def loss_atol(pairs: dict) -> float:
    """Rounding room for inputs as large as max |l| (a difference of log odds near -1e4 loses eps * 1e4)."""
    return rounding_atol(pairs["pi_chosen_avg"].dtype, largest_abs(*pairs.values()))


def exact(pairs: dict) -> torch.Tensor:
    """The losses computed in float64 from the given (already rounded) inputs, cast back to their dtype."""
    dtype = pairs["pi_chosen_avg"].dtype
    return ref.orpo_odds_ratio_loss(**{k: v.double() for k, v in pairs.items()}).to(dtype)


def assert_finite(got, fn: str, why: str, inputs: dict) -> None:
    if isinstance(got, torch.Tensor) and got.is_floating_point() and not torch.isfinite(got).all():
        raise AssertionError(f"{fn} returned non-finite losses {got} although the exact ones are finite: {why}\n"
                             f"  inputs: {inputs}")


@pytest.mark.points(3)
@given(pairs=avg_logprob_pairs(low=-20.0))
def test_matches_reference(student, pairs):
    """The per-pair losses match on random average log-probs in [-20, 0) (float32/float64)."""
    assert_close(student.orpo_odds_ratio_loss(**pairs), ref.orpo_odds_ratio_loss(**pairs), atol=loss_atol(pairs),
                 inputs=pairs)


@pytest.mark.points(2)
@given(pairs=avg_logprob_pairs(low=-10.0, high=-0.0625), data=st.data())
def test_gradient_matches_reference(student, pairs, data):
    """Gradients w.r.t. both average log-probs match (d log odds / dl = 1 / (1 - e^l))."""
    shape, dtype = tuple(pairs["pi_chosen_avg"].shape), pairs["pi_chosen_avg"].dtype
    cotangent = data.draw(tensors(shape, dtype, floats(-1, 1)))
    wrt = ["pi_chosen_avg", "pi_rejected_avg"]
    got = student.grad("orpo_odds_ratio_loss", (), pairs, wrt=wrt, cotangent=cotangent)
    _, expected = reference_grad(ref.orpo_odds_ratio_loss, (), pairs, wrt=wrt, cotangent=cotangent)
    assert_close(got.grads, expected, what="the gradient", inputs=pairs)


@pytest.mark.points(2)
@given(pairs=near_zero_pairs())
def test_almost_certain_answers_are_accurate(student, pairs):
    """Average log-probs near 0 (-1e-3 ... -1e-20) give accurate losses: log(1 - e^l) = log(-expm1(l))."""
    got = student.orpo_odds_ratio_loss(**pairs)
    assert_finite(got, "orpo_odds_ratio_loss", "1 - exp(l) rounds to 0 for l near 0; use torch.log(-torch.expm1(l))",
                  pairs)
    assert_close(got, exact(pairs), inputs=pairs,
                 what="the losses for l near 0 (is log(1 - exp(l)) computed as log(-expm1(l))?)")


@pytest.mark.points(1)
@given(pairs=avg_logprob_pairs(large=True))
def test_very_negative_logprobs_are_stable(student, pairs):
    """Average log-probs near -1e4 (log odds ratios up to ±9e3) give finite, accurate losses: use F.logsigmoid."""
    got = student.orpo_odds_ratio_loss(**pairs)
    assert_finite(got, "orpo_odds_ratio_loss", "use F.logsigmoid, not log(sigmoid(...))", pairs)
    assert_close(got, ref.orpo_odds_ratio_loss(**pairs), atol=loss_atol(pairs), inputs=pairs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), data=st.data())
def test_worked_odds(student, dtype, data):
    """P_c = 0.5 vs P_r = 0.2 costs log 1.25 (odds 1 vs 1/4), and equal answers cost log 2, in any order."""
    probs = [(0.5, 0.2, math.log(1.25)), (0.2, 0.5, math.log(5.0)), (0.75, 0.75, math.log(2.0)),
             (0.9, 0.5, math.log(1 + 1 / 9))]
    chosen_first = data.draw(st.permutations(probs))
    kwargs = {"pi_chosen_avg": torch.tensor([math.log(c) for c, _, _ in chosen_first], dtype=dtype),
              "pi_rejected_avg": torch.tensor([math.log(r) for _, r, _ in chosen_first], dtype=dtype)}
    expected = torch.tensor([v for _, _, v in chosen_first], dtype=dtype)
    assert_close(student.orpo_odds_ratio_loss(**kwargs), expected, what="the losses for P = e^l of 0.5, 0.2, 0.75, 0.9",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(pairs=avg_logprob_pairs(low=-20.0))
def test_swapping_gives_the_complement(student, pairs):
    """exp(-loss) is the modelled P(chosen wins): swapping chosen and rejected gives 1 - that probability."""
    got = student.orpo_odds_ratio_loss(**pairs)
    swapped = student.orpo_odds_ratio_loss(pairs["pi_rejected_avg"], pairs["pi_chosen_avg"])
    assert isinstance(got, torch.Tensor) and isinstance(swapped, torch.Tensor), (
        f"orpo_odds_ratio_loss should return tensors, got {got!r}, {swapped!r}")
    total = torch.exp(-got.double()) + torch.exp(-swapped.double())
    assert_close(total, torch.ones_like(total), rtol=0.0, atol=1e-4,
                 what="exp(-loss) + exp(-loss with chosen and rejected swapped)", inputs=pairs)
    assert_close(got, ref.orpo_odds_ratio_loss(**pairs), atol=loss_atol(pairs), inputs=pairs)


@pytest.mark.points(1)
@given(pairs=avg_logprob_pairs(low=-20.0))
def test_does_not_modify_inputs(student, pairs):
    """orpo_odds_ratio_loss leaves its input tensors unchanged (and returns the right losses)."""
    result = student.call("orpo_odds_ratio_loss", **pairs)
    assert not result.mutated, (
        f"orpo_odds_ratio_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.orpo_odds_ratio_loss(**pairs), atol=loss_atol(pairs), inputs=pairs)
