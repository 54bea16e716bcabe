"""Hidden tests for ``lora_forward``: x W^T + (alpha / r) x A^T B^T, and its gradients."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_09.strategies import ALPHAS, lora_atol, lora_layers
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("lora_forward")


def grad_atol(kwargs: dict, wrt: list, cotangent: torch.Tensor) -> float:
    """Rounding room: the gradient is a polynomial with positive coefficients (alpha > 0), so evaluating it at
    |inputs| and |cotangent| in float64 bounds the sum of the absolute values of its terms."""
    absolute = {k: (v.double().abs() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    _, bounds = reference_grad(ref.lora_forward, (), absolute, wrt=wrt, cotangent=cotangent.double().abs())
    size = max(float(b.max()) for b in bounds if b.numel())
    return 8 * torch.finfo(kwargs["x"].dtype).eps * max(1.0, size)


@pytest.mark.points(3)
@given(layer=lora_layers(), alpha=ALPHAS)
def test_matches_reference(student, layer, alpha):
    """Outputs match for x with 0-2 leading dims, square and non-square W, ranks 1-3, several alpha, float32/64."""
    got = student.lora_forward(**layer, alpha=alpha)
    assert_close(got, ref.lora_forward(**layer, alpha=alpha), atol=lora_atol(layer, alpha),
                 inputs={**layer, "alpha": alpha})


@pytest.mark.points(3)
@settings(max_examples=15)
@given(layer=lora_layers(), alpha=ALPHAS, data=st.data())
def test_gradient_matches_reference(student, layer, alpha, data):
    """Gradients w.r.t. x, W, A and B all match (W is frozen in training, but the function must not detach it)."""
    kwargs = {**layer, "alpha": alpha}
    shape = tuple(ref.lora_forward(**kwargs).shape)
    cotangent = data.draw(tensors(shape, layer["x"].dtype, floats(-1.0, 1.0)), label="cotangent")
    wrt = ["x", "W", "A", "B"]
    got = student.grad("lora_forward", (), kwargs, wrt=wrt, cotangent=cotangent)
    _, expected = reference_grad(ref.lora_forward, (), kwargs, wrt=wrt, cotangent=cotangent)
    assert_close(got.grads, expected, atol=grad_atol(kwargs, wrt, cotangent), what="the gradients (w.r.t. x, W, A, B)",
                 inputs=kwargs)



@pytest.mark.points(1)
@settings(max_examples=10)
@given(layer=lora_layers(), alpha=ALPHAS)
def test_doubling_the_adapter_changes_nothing(student, layer, alpha):
    """Stacking the adapter twice (rank 2r: B A doubles, alpha / r halves) gives the same output (and the right one)."""
    doubled = {**layer, "A": torch.cat([layer["A"], layer["A"]]), "B": torch.cat([layer["B"], layer["B"]], dim=1)}
    expected = ref.lora_forward(**layer, alpha=alpha)
    atol = 2 * lora_atol(layer, alpha)
    assert_close(student.lora_forward(**layer, alpha=alpha), expected, atol=atol, what="the output at rank r",
                 inputs={**layer, "alpha": alpha})
    assert_close(student.lora_forward(**doubled, alpha=alpha), expected, atol=atol,
                 what="the output with the adapter stacked twice (rank 2r)", inputs={**doubled, "alpha": alpha})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(layer=lora_layers(), alpha=ALPHAS)
def test_zero_B_gives_the_base_layer(student, layer, alpha):
    """At LoRA's initialisation (B = 0) the layer is exactly the base layer x W^T."""
    kwargs = {**layer, "B": torch.zeros_like(layer["B"]), "alpha": alpha}
    expected = (layer["x"].double() @ layer["W"].double().T).to(layer["x"].dtype)
    assert_close(student.lora_forward(**kwargs), expected, atol=lora_atol(layer, alpha),
                 what="the output with B = 0", inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(layer=lora_layers(), alpha=ALPHAS)
def test_does_not_modify_inputs(student, layer, alpha):
    """lora_forward leaves x, W, A and B unchanged (and returns the right output)."""
    result = student.call("lora_forward", **layer, alpha=alpha)
    assert not result.mutated, f"lora_forward modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.lora_forward(**layer, alpha=alpha), atol=lora_atol(layer, alpha),
                 inputs={**layer, "alpha": alpha})
