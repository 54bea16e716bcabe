"""Hidden tests for ``kl_categorical``: KL(P || Q) = sum p (log p - log q) from log_softmax of each."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlgrade.testing import assert_close, reference_for, reference_grad, tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("kl_categorical")

SHAPES = st.sampled_from([(), (1,), (3,), (2, 3)])


@st.composite
def logit_pairs(draw, low: float = -10.0, high: float = 10.0, dtype=None):
    """{"p_logits", "q_logits"} of shape [..., V] (V in 2..6; leading shape (), (1,), (3,) or (2, 3))."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shape = draw(SHAPES) + (draw(st.integers(2, 6)),)
    return {"p_logits": draw(tensors(shape, dtype, floats(low, high))),
            "q_logits": draw(tensors(shape, dtype, floats(low, high)))}


def kl_atol(logits: dict) -> float:
    """Rounding room: log-probabilities are as large as the logits' spread."""
    spread = max(float(t.double().abs().max()) for t in logits.values())
    return tolerance_for(logits["p_logits"].dtype)[1] * max(1.0, 2 * spread)


@pytest.mark.points(3)
@given(logits=logit_pairs())
def test_matches_reference(student, logits):
    """KL(P || Q) matches on random logits of shape [V], [B, V] and [B, T, V], float32 and float64."""
    assert_close(student.kl_categorical(**logits), ref.kl_categorical(**logits), atol=kl_atol(logits), inputs=logits)


@pytest.mark.points(2)
@settings(max_examples=15)
@given(logits=logit_pairs(), data=st.data())
def test_gradient_matches_reference(student, logits, data):
    """Gradients w.r.t. both p_logits and q_logits match."""
    shape = tuple(logits["p_logits"].shape[:-1])
    cotangent = data.draw(tensors(shape, logits["p_logits"].dtype, floats(-1.0, 1.0)))
    wrt = ["p_logits", "q_logits"]
    got = student.grad("kl_categorical", (), logits, wrt=wrt, cotangent=cotangent)
    _, expected = reference_grad(ref.kl_categorical, (), logits, wrt=wrt, cotangent=cotangent)
    assert_close(got.grads, expected, what="the gradient", atol=kl_atol(logits), inputs=logits)


@pytest.mark.points(1)
@settings(max_examples=15)
@given(logits=logit_pairs())
def test_nonnegative_and_zero_for_equal_distributions(student, logits):
    """KL(P || Q) >= 0, with the right value, and KL(P || P) = 0."""
    got = student.kl_categorical(**logits)
    assert_close(got, ref.kl_categorical(**logits), atol=kl_atol(logits), inputs=logits)
    negative = got.double() < -kl_atol(logits)
    assert not negative.any(), f"KL(P || Q) must be >= 0, got {got}\n  inputs: {logits}"
    same = {"p_logits": logits["p_logits"], "q_logits": logits["p_logits"].clone()}
    got = student.kl_categorical(**same)
    assert_close(got, torch.zeros_like(logits["p_logits"][..., 0]), what="KL(P || P)", atol=kl_atol(logits),
                 inputs=same)


@pytest.mark.points(1)
@settings(max_examples=15)
@given(logits=logit_pairs(), data=st.data())
def test_shifting_logits_changes_nothing(student, logits, data):
    """Adding a constant to every logit of a row (of P or of Q) leaves the KL unchanged: softmax normalises."""
    p, q = logits["p_logits"], logits["q_logits"]
    shape = tuple(p.shape[:-1]) + (1,)
    shifted = {"p_logits": p + data.draw(tensors(shape, p.dtype, floats(-50.0, 50.0))),
               "q_logits": q + data.draw(tensors(shape, q.dtype, floats(-50.0, 50.0)))}
    assert_close(student.kl_categorical(**shifted), ref.kl_categorical(**logits), what="the KL of shifted logits",
                 atol=kl_atol(shifted), inputs=shifted)


@st.composite
def large_logit_pairs(draw):
    """Logits in [-1e4, 1e4], or a common offset up to ±1e4 plus a spread of ±10 (exp() overflows, softmax does not)."""
    if draw(st.booleans()):
        return draw(logit_pairs(low=-1e4, high=1e4))
    logits = draw(logit_pairs())
    offset = draw(st.sampled_from([-1e4, -1000.0, 1000.0, 1e4]))
    return {k: v + offset for k, v in logits.items()}


@pytest.mark.points(2)
@given(logits=large_logit_pairs())
def test_large_logits_are_stable(student, logits):
    """Logits as large as 1e4 in absolute value give finite, accurate KLs (log_softmax, not log(softmax))."""
    got = student.kl_categorical(**logits)
    expected = ref.kl_categorical(**logits)
    if isinstance(got, torch.Tensor) and not torch.isfinite(got).all():
        raise AssertionError(f"the KL overflowed or is not finite for logits of size 1e4: got {got}, expected "
                             f"{expected}\n  inputs: {logits}")
    assert_close(got, expected, atol=kl_atol(logits), inputs=logits)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(logits=logit_pairs())
def test_does_not_modify_inputs(student, logits):
    """kl_categorical leaves its input tensors unchanged (and returns the right KL)."""
    result = student.call("kl_categorical", **logits)
    assert not result.mutated, f"kl_categorical modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.kl_categorical(**logits), atol=kl_atol(logits), inputs=logits)
