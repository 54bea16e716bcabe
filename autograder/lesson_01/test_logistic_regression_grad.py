"""Hidden tests for ``logistic_regression_grad``: X^T (sigmoid(X w) - y) / N, derived by hand."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_01.strategies import assert_finite, largest_abs, logistic_data, rounding_atol
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("logistic_regression_grad")


def atol_for(data: dict) -> float:
    return rounding_atol(data["X"].dtype, largest_abs(data["X"]) ** 2 * max(1.0, largest_abs(data["w"])))


def autograd_of_mean_bce(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """What the hand-derived gradient must equal: autograd of the mean BCE loss, in float64."""
    w64 = w.double().clone().requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(X.double() @ w64, y.double())
    (grad,) = torch.autograd.grad(loss, w64)
    return grad.to(X.dtype)


@pytest.mark.points(3)
@given(data=logistic_data())
def test_matches_reference(student, data):
    """The gradient matches X^T (sigmoid(X w) - y) / N on random data, float32 and float64."""
    assert_close(student.logistic_regression_grad(**data), ref.logistic_regression_grad(**data), atol=atol_for(data),
                 inputs=data)


@pytest.mark.points(2)
@given(data=logistic_data())
def test_matches_autograd_of_the_loss(student, data):
    """The hand-derived gradient equals autograd's gradient of the mean binary cross-entropy loss."""
    assert_close(student.logistic_regression_grad(**data), autograd_of_mean_bce(**data), atol=atol_for(data),
                 what="the gradient (compared with autograd of the mean BCE)", inputs=data)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(data=logistic_data())
def test_mean_over_samples(student, data):
    """The loss is a mean over samples: the data set stacked twice has the same gradient."""
    doubled = {"X": torch.cat([data["X"], data["X"]]), "y": torch.cat([data["y"], data["y"]]), "w": data["w"]}
    assert_close(student.logistic_regression_grad(**doubled), ref.logistic_regression_grad(**data),
                 atol=atol_for(data), what="the gradient of the data stacked twice", inputs=doubled)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(data=logistic_data(), step=st.sampled_from([1e-3, 1e-2]))
def test_small_step_against_it_lowers_the_loss(student, data, step):
    """A small step w - eta * grad lowers the mean BCE loss (it is a descent direction), and grad is right."""
    got = student.logistic_regression_grad(**data)
    expected = ref.logistic_regression_grad(**data)
    assert_close(got, expected, atol=atol_for(data), inputs=data)
    X, y, w = (data[k].double() for k in ("X", "y", "w"))
    g = expected.double()
    if float(g.norm()) < 1e-3:
        return  # (near) the minimum: nothing to lower
    before = F.binary_cross_entropy_with_logits(X @ w, y)
    after = F.binary_cross_entropy_with_logits(X @ (w - step * got.double()), y)
    assert after < before, (f"a step of {step} against the gradient raised the loss from {float(before)!r} to "
                            f"{float(after)!r}: the sign is wrong\n  inputs: {data}")


@pytest.mark.points(1)
@given(data=logistic_data(large=True))
def test_large_scores_are_stable(student, data):
    """Scores |X w| of order 1e4 (separable data, large weights) give a finite, accurate gradient."""
    got = student.logistic_regression_grad(**data)
    expected = ref.logistic_regression_grad(**data)
    scores = largest_abs(data["X"].double() @ data["w"].double())
    assert_finite(got, expected, what="the gradient", why=f"Scores |X w| reach {scores:.4g}: compute sigmoid with "
                  "torch.sigmoid (exp(z) / (1 + exp(z)) is inf/inf for large z).", inputs=data)
    assert_close(got, expected, atol=rounding_atol(data["X"].dtype, largest_abs(data["X"])), inputs=data)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(data=logistic_data())
def test_does_not_modify_inputs(student, data):
    """logistic_regression_grad leaves X, y and w unchanged (and returns the right gradient)."""
    result = student.call("logistic_regression_grad", **data)
    assert not result.mutated, (
        f"logistic_regression_grad modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.logistic_regression_grad(**data), atol=atol_for(data), inputs=data)
