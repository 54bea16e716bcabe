"""Hidden tests for ``layer_norm``: (x - mean) / sqrt(population var + eps) * weight + bias over the last dim."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_02.strategies import EPSILONS, layer_norm_atol, layer_norm_inputs
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.compare import describe_inputs
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
# the built-ins the docstring forbids, watched at the dispatcher (no alias hides them)
pytestmark = [pytest.mark.question("layer_norm"), pytest.mark.forbid("aten::native_layer_norm")]

EXACT_LEVELS = (-3.0, -0.5, 0.0, 0.25, 2.0, 7.0)
"""Exactly representable constants: a constant vector's deviations from its mean are exactly 0."""


@pytest.mark.points(3)
@given(case=layer_norm_inputs(), eps=EPSILONS)
def test_matches_reference(student, case, eps):
    """Matches on random [D], [B, D] and [B, T, D] inputs with random weight and bias and several eps."""
    assert_close(student.layer_norm(**case, eps=eps), ref.layer_norm(**case, eps=eps),
                 atol=layer_norm_atol(case["x"], case["weight"]), inputs={**case, "eps": eps})


@pytest.mark.points(2)
@given(case=layer_norm_inputs(), eps=EPSILONS, data=st.data())
def test_gradient_matches_reference(student, case, eps, data):
    """Gradients w.r.t. x, weight and bias match (a random cotangent)."""
    x = case["x"]
    cotangent = data.draw(tensors(tuple(x.shape), x.dtype, floats(-1.0, 1.0)))
    kwargs = {**case, "eps": eps}
    wrt = ["x", "weight", "bias"]
    got = student.grad("layer_norm", (), kwargs, wrt=wrt, cotangent=cotangent)
    _, expected = reference_grad(ref.layer_norm, (), kwargs, wrt=wrt, cotangent=cotangent)
    assert_close(got.grads, expected, what="(d/dx, d/dweight, d/dbias)", atol=layer_norm_atol(x, case["weight"]),
                 inputs={**kwargs, "cotangent": cotangent})


@pytest.mark.points(1)
@given(case=layer_norm_inputs(affine=False), eps=st.sampled_from([1e-5, 1e-3]))
def test_normalised_output_has_mean_0_and_population_variance_1(student, case, eps):
    """With weight 1 and bias 0 each vector comes out with mean 0 and population variance var / (var + eps)."""
    got = student.layer_norm(**case, eps=eps)
    x = case["x"]
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(x.shape), (
        f"expected a tensor of shape {tuple(x.shape)}, got {got!r}")
    g = got.detach().double()
    means = g.mean(dim=-1)
    atol = 1e-5 if x.dtype == torch.float32 else 1e-10
    assert_close(means, torch.zeros_like(means), what="the mean of each normalised vector", atol=atol,
                 inputs={**case, "eps": eps})
    var_in = x.double().var(dim=-1, unbiased=False)
    expected = var_in / (var_in + eps)
    variances = g.var(dim=-1, unbiased=False)
    assert_close(variances, expected, rtol=1e-4 if x.dtype == torch.float32 else 1e-9, atol=0.0,
                 what="the population variance of each normalised vector (var / (var + eps): population variance, "
                      "eps inside the square root)", inputs={**case, "eps": eps})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(dtype=float_dtypes(), d=st.integers(1, 5), levels=st.lists(st.sampled_from(EXACT_LEVELS), min_size=1,
                                                                    max_size=3), data=st.data())
def test_constant_vectors_give_the_bias(student, dtype, d, levels, data):
    """A constant vector (D = 1 included) has x - mean = 0, so its output is the bias (eps avoids 0/0)."""
    x = torch.tensor(levels, dtype=dtype)[:, None].expand(len(levels), d).clone()
    weight = data.draw(tensors((d,), dtype, floats(-2.0, 2.0)))
    bias = data.draw(tensors((d,), dtype, floats(-2.0, 2.0)).filter(lambda b: bool((b != 0).any())))
    case = {"x": x, "weight": weight, "bias": bias}
    assert_close(student.layer_norm(**case), bias.expand(len(levels), d),
                 what="the output of constant vectors (the bias)", inputs=case)


@pytest.mark.points(1)
@given(case=layer_norm_inputs(), eps=EPSILONS, scale=st.sampled_from([0.25, 0.5, 2.0, 4.0]),
       shift=st.integers(-8, 8).map(float))
def test_shift_and_scale_invariant(student, case, eps, scale, shift):
    """layer_norm(a x + c, eps = a^2 eps) equals layer_norm(x, eps): the output ignores the vector's offset and scale."""
    moved = {**case, "x": case["x"] * scale + shift, "eps": eps * scale ** 2}
    assert_close(student.layer_norm(**moved), ref.layer_norm(**case, eps=eps),
                 what=f"layer_norm({scale} x + {shift}, eps={eps} * {scale}^2)",
                 atol=layer_norm_atol(moved["x"], case["weight"]), inputs=moved)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=layer_norm_inputs(), eps=EPSILONS)
def test_does_not_modify_inputs(student, case, eps):
    """layer_norm leaves x, weight and bias unchanged (and returns the right values)."""
    result = student.call("layer_norm", **case, eps=eps)
    assert not result.mutated, (f"layer_norm modified its input(s) in place: {', '.join(map(str, result.mutated))}"
                                + describe_inputs(case))
    assert_close(result.value, ref.layer_norm(**case, eps=eps), atol=layer_norm_atol(case["x"], case["weight"]),
                 inputs={**case, "eps": eps})
