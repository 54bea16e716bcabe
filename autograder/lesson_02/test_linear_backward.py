"""Hidden tests for ``linear_backward``: (G W, G^T x, sum_n G_n) for y = x W^T + b."""

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_02.strategies import largest_abs, linear_batches, rounding_atol
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("linear_backward")


def atol_for(batch: dict) -> float:
    n, i = batch["x"].shape
    o = batch["W"].shape[0]
    return rounding_atol(batch["x"].dtype, largest_abs(*batch.values()) ** 2 * max(n, i, o))


def autograd_of_linear(x: torch.Tensor, W: torch.Tensor, grad_out: torch.Tensor) -> tuple:
    """What the hand-derived gradients must equal: autograd through y = x W^T + b, in float64."""
    x64, W64 = x.double().requires_grad_(True), W.double().requires_grad_(True)
    b64 = torch.zeros(W.shape[0], dtype=torch.float64, requires_grad=True)
    y = x64 @ W64.T + b64
    grads = torch.autograd.grad(y, (x64, W64, b64), grad_outputs=grad_out.double())
    return tuple(g.to(x.dtype) for g in grads)


@pytest.mark.points(3)
@given(batch=linear_batches())
def test_matches_reference(student, batch):
    """(grad_x, grad_W, grad_b) match on random shapes, float32 and float64."""
    assert_close(student.linear_backward(**batch), ref.linear_backward(**batch), atol=atol_for(batch), inputs=batch)


@pytest.mark.points(2)
@given(batch=linear_batches())
def test_matches_autograd(student, batch):
    """The hand-derived gradients equal autograd's through y = x W^T + b with upstream gradient grad_out."""
    assert_close(student.linear_backward(**batch), autograd_of_linear(**batch), atol=atol_for(batch),
                 what="(grad_x, grad_W, grad_b) compared with autograd", inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=linear_batches())
def test_weight_and_bias_gradients_sum_over_samples(student, batch):
    """grad_W and grad_b of a batch are the sums over its samples (a sum, not a mean); grad_x is per sample."""
    x, W, grad_out = batch["x"], batch["W"], batch["grad_out"]
    per_sample = [ref.linear_backward(x[n:n + 1], W, grad_out[n:n + 1]) for n in range(x.shape[0])]
    expected = (torch.cat([p[0] for p in per_sample]), sum(p[1] for p in per_sample), sum(p[2] for p in per_sample))
    assert_close(student.linear_backward(**batch), expected, atol=atol_for(batch),
                 what="(grad_x, grad_W, grad_b) against per-sample sums", inputs=batch)


@pytest.mark.points(1)
def test_each_gradient_has_its_variables_shape(student):
    """With N, I, O all different, grad_x is [N, I], grad_W is [O, I] and grad_b is [O] (and right)."""
    for dtype in (torch.float32, torch.float64):
        generator = torch.Generator().manual_seed(0)
        case = {"x": torch.randn(2, 3, generator=generator, dtype=torch.float64).to(dtype),
                "W": torch.randn(4, 3, generator=generator, dtype=torch.float64).to(dtype),
                "grad_out": torch.randn(2, 4, generator=generator, dtype=torch.float64).to(dtype)}
        got = student.linear_backward(**case)
        assert isinstance(got, (tuple, list)) and len(got) == 3, (
            f"linear_backward must return (grad_x, grad_W, grad_b), got {got!r}")
        for name, value, shape in zip(("grad_x", "grad_W", "grad_b"), got, ((2, 3), (4, 3), (4,))):
            assert isinstance(value, torch.Tensor) and tuple(value.shape) == shape, (
                f"{name} must have the shape {shape} of its variable, got "
                f"{tuple(value.shape) if isinstance(value, torch.Tensor) else value!r} (N=2, I=3, O=4)")
        assert_close(got, ref.linear_backward(**case), atol=atol_for(case), inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=linear_batches())
def test_does_not_modify_inputs(student, batch):
    """linear_backward leaves x, W and grad_out unchanged (and returns the right gradients)."""
    result = student.call("linear_backward", **batch)
    assert not result.mutated, f"linear_backward modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.linear_backward(**batch), atol=atol_for(batch), inputs=batch)
