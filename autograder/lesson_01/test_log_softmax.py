"""Hidden tests for ``log_softmax``: x - log(sum(exp(x))) along ``dim``, stable for |x| up to 1e4."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_01.strategies import LARGE, assert_finite, largest_abs, logits_and_dim, rounding_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.compare import describe_inputs
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
# the built-ins the docstring forbids, watched at the dispatcher (no alias hides them)
pytestmark = [pytest.mark.question("log_softmax"), pytest.mark.forbid("aten::_log_softmax", "aten::_softmax")]

UNSTABLE = ("exp() of logits this large overflows to inf or underflows to 0: subtract each slice's max along dim "
            "before exponentiating (the log-sum-exp trick, or torch.logsumexp)")


def atol_for(x: torch.Tensor) -> float:
    return rounding_atol(x.dtype, largest_abs(x))


@pytest.mark.points(3)
@given(case=logits_and_dim())
def test_matches_reference(student, case):
    """Matches x - logsumexp(x) on random 1-3-D logits, along every dim (either sign), float32 and float64."""
    assert_close(student.log_softmax(**case), ref.log_softmax(**case), atol=atol_for(case["x"]), inputs=case)


@pytest.mark.points(2)
@given(case=logits_and_dim(), data=st.data())
def test_gradient_matches_reference(student, case, data):
    """The gradient w.r.t. x matches (onehot - softmax, contracted with a random cotangent)."""
    x = case["x"]
    cotangent = data.draw(tensors(tuple(x.shape), x.dtype, floats(-1.0, 1.0)))
    got = student.grad("log_softmax", (), case, wrt=["x"], cotangent=cotangent)
    _, expected = reference_grad(ref.log_softmax, (), case, wrt=["x"], cotangent=cotangent)
    assert_close(got.grads, expected, what="d log_softmax / d x", inputs={**case, "cotangent": cotangent})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=logits_and_dim(min_classes=2))
def test_exp_sums_to_one(student, case):
    """exp(log_softmax(x)) is a distribution along dim: log-probs <= 0 whose exps sum to 1."""
    got = student.log_softmax(**case)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(case["x"].shape), (
        f"expected a tensor of shape {tuple(case['x'].shape)}, got {got!r}")
    probs = got.detach().double().exp()
    sums = probs.sum(dim=case["dim"])
    atol = 1e-5 if case["x"].dtype == torch.float32 else 1e-10
    assert_close(sums, torch.ones_like(sums), what="the sums of exp(log_softmax(x)) along dim", atol=atol, rtol=0.0,
                 inputs=case)
    too_big = got.detach().double() > atol
    assert not too_big.any(), (f"log-probabilities must be <= 0, got {got.detach().double()[too_big][0].item()!r}"
                               + describe_inputs(case))


@pytest.mark.points(1)
@given(case=logits_and_dim(), data=st.data())
def test_shift_invariant(student, case, data):
    """Adding a constant to every logit of a slice (one constant per slice) does not change the result."""
    x, dim = case["x"], case["dim"]
    shape = list(x.shape)
    shape[dim] = 1
    shift = data.draw(tensors(tuple(shape), x.dtype, st.integers(-100, 100).map(float)))
    shifted = {"x": x + shift, "dim": dim}
    assert_close(student.log_softmax(**shifted), ref.log_softmax(**case), atol=rounding_atol(x.dtype, 120.0),
                 what="log_softmax(x + c)", inputs=shifted)


@pytest.mark.points(2)
@given(case=logits_and_dim(large=True))
def test_large_logits_are_stable(student, case):
    """Logits up to 1e4 in absolute value give finite, accurate log-probs (the log-sum-exp trick)."""
    got = student.log_softmax(**case)
    expected = ref.log_softmax(**case)
    assert_finite(got, expected, what="log_softmax(x)", why=f"|logits| reach {largest_abs(case['x']):.4g}: {UNSTABLE}",
                  inputs=case)
    assert_close(got, expected, atol=atol_for(case["x"]), inputs=case)


@pytest.mark.points(1)
def test_slices_of_very_different_scales(student):
    """Slices near +1e4 and near -1e4 in one tensor: each is shifted by its own max, so both stay finite."""
    top = -math.log(1.0 + math.exp(-1.0) + math.exp(-2.0))
    for dtype in (torch.float32, torch.float64):
        rows = torch.tensor([[LARGE, LARGE - 1.0, LARGE - 2.0], [-LARGE, -LARGE + 1.0, -LARGE + 2.0]], dtype=dtype)
        expected_rows = torch.tensor([[top, top - 1.0, top - 2.0], [top - 2.0, top - 1.0, top]], dtype=dtype)
        for dim in (-1, 0):
            x = rows if dim == -1 else rows.T.contiguous()
            expected = expected_rows if dim == -1 else expected_rows.T.contiguous()
            got = student.log_softmax(x, dim=dim)
            inputs = {"x": x, "dim": dim}
            assert_finite(got, expected, what="log_softmax(x)",
                          why=f"One slice is near +1e4, another near -1e4. {UNSTABLE}", inputs=inputs)
            assert_close(got, expected, atol=atol_for(x), inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(dtype=float_dtypes(), data=st.data())
def test_normalises_along_dim(student, dtype, data):
    """dim selects the axis: normalising columns (dim=0) or the middle axis of a 3-D tensor is not the last axis."""
    shape = data.draw(st.sampled_from([(2, 3), (3, 2), (2, 3, 4), (4, 2, 3)]))
    dim = data.draw(st.sampled_from([0, 1, -2] if len(shape) == 3 else [0, -2]))
    case = {"x": data.draw(tensors(shape, dtype)), "dim": dim}
    assert_close(student.log_softmax(**case), ref.log_softmax(**case), atol=atol_for(case["x"]),
                 what=f"log_softmax along dim={dim}", inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=logits_and_dim())
def test_does_not_modify_inputs(student, case):
    """log_softmax leaves x unchanged (and returns the right values)."""
    result = student.call("log_softmax", **case)
    assert not result.mutated, f"log_softmax modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.log_softmax(**case), atol=atol_for(case["x"]), inputs=case)
