"""Hidden tests for ``shifted_token_logprobs``: logits[:, t] scores input_ids[:, t + 1]; result [B, T - 1]."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_03.strategies import (
    assert_finite_where_expected,
    logit_atol,
    logits_and_ids,
)
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("shifted_token_logprobs")

STABILITY_HINT = "log(softmax(x)) underflows to log(0) = -inf and exp overflows: use F.log_softmax or logsumexp."


@pytest.mark.points(3)
@given(batch=logits_and_ids())
def test_matches_reference(student, batch):
    """Next-token log-probs match on random sequences (T = 1 included), float32 and float64."""
    logits, input_ids = batch
    assert_close(student.shifted_token_logprobs(logits, input_ids), ref.shifted_token_logprobs(logits, input_ids),
                 atol=logit_atol(logits.dtype, logits), inputs={"logits": logits, "input_ids": input_ids})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=logits_and_ids(min_seq=2), data=st.data())
def test_gradient_matches_reference(student, batch, data):
    """The gradient w.r.t. the logits matches (0 at the last position, whose logits are unused)."""
    logits, input_ids = batch
    b, t, _ = logits.shape
    cotangent = data.draw(tensors((b, t - 1), logits.dtype, floats(-1.0, 1.0)))
    got = student.grad("shifted_token_logprobs", (logits, input_ids), wrt=[0], cotangent=cotangent)
    _, expected = reference_grad(ref.shifted_token_logprobs, (logits, input_ids), wrt=[0], cotangent=cotangent)
    assert_close(got.grads, expected, what="d/d logits", inputs={"logits": logits, "input_ids": input_ids})


@pytest.mark.points(2)
@settings(max_examples=15)
@given(batch=logits_and_ids(large=True))
def test_large_logits_are_stable(student, batch):
    """Logits as large as 1e4 in absolute value give finite, accurate next-token log-probs."""
    logits, input_ids = batch
    inputs = {"logits": logits, "input_ids": input_ids}
    got = student.shifted_token_logprobs(logits, input_ids)
    expected = ref.shifted_token_logprobs(logits, input_ids)
    assert_finite_where_expected(got, expected, "shifted_token_logprobs", inputs, STABILITY_HINT)
    assert_close(got, expected, atol=logit_atol(logits.dtype, logits), inputs=inputs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), batch=st.integers(1, 3))
def test_single_token_gives_an_empty_result(student, dtype, batch):
    """T = 1 leaves nothing to predict: shape [B, 0] in the logits' dtype (and T = 3 gives the right [B, 2])."""
    logits = torch.randn(batch, 1, 5, generator=torch.Generator().manual_seed(batch)).to(dtype)
    input_ids = torch.zeros(batch, 1, dtype=torch.long)
    got = student.shifted_token_logprobs(logits, input_ids)
    assert_close(got, torch.zeros(batch, 0, dtype=dtype), what="the result for T = 1",
                 inputs={"logits": logits, "input_ids": input_ids})
    logits3 = torch.tensor([[[0.0, 0.0, math.log(2.0)], [math.log(3.0), 0.0, 0.0], [9.0, -9.0, 9.0]]], dtype=dtype)
    ids3 = torch.tensor([[2, 0, 1]])
    expected = torch.tensor([[-math.log(4.0), -math.log(5.0)]], dtype=dtype)
    assert_close(student.shifted_token_logprobs(logits3, ids3), expected, what="the result for T = 3",
                 inputs={"logits": logits3, "input_ids": ids3})


@st.composite
def confident_models(draw):
    """Logits that put L on the true next token and 0 elsewhere (junk at the last position)."""
    dtype = draw(float_dtypes())
    batch, seq, vocab = draw(st.integers(1, 3)), draw(st.integers(2, 5)), draw(st.integers(2, 8))
    gap = draw(st.sampled_from([3.0, 5.0, 8.0]))
    ids = torch.tensor(draw(st.lists(st.integers(0, vocab - 1), min_size=batch * seq, max_size=batch * seq)))
    ids = ids.reshape(batch, seq)
    logits = torch.zeros(batch, seq, vocab, dtype=torch.float64)
    logits[:, :-1] = gap * torch.nn.functional.one_hot(ids[:, 1:], vocab).to(torch.float64)
    logits[:, -1] = draw(tensors((batch, vocab), torch.float64))
    return logits.to(dtype), ids, gap


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=confident_models())
def test_a_model_that_predicts_the_next_token(student, case):
    """Logits with a margin L on each next token give log-prob -log(1 + (V - 1) e^-L) everywhere."""
    logits, input_ids, gap = case
    b, t, vocab = logits.shape
    value = -math.log1p((vocab - 1) * math.exp(-gap))
    expected = torch.full((b, t - 1), value, dtype=logits.dtype)
    assert_close(student.shifted_token_logprobs(logits, input_ids), expected,
                 what=f"the next-token log-probs (L = {gap}, V = {vocab})",
                 inputs={"logits": logits, "input_ids": input_ids})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=logits_and_ids(min_seq=2), data=st.data())
def test_first_token_and_last_logits_are_unused(student, batch, data):
    """Changing input_ids[:, 0] or the logits at the last position does not change the result."""
    logits, input_ids = batch
    b, _, vocab = logits.shape
    changed_logits, changed_ids = logits.clone(), input_ids.clone()
    changed_logits[:, -1] = data.draw(tensors((b, vocab), logits.dtype))
    changed_ids[:, 0] = torch.tensor(data.draw(st.lists(st.integers(0, vocab - 1), min_size=b, max_size=b)))
    inputs = {"logits": changed_logits, "input_ids": changed_ids}
    assert_close(student.shifted_token_logprobs(changed_logits, changed_ids),
                 ref.shifted_token_logprobs(logits, input_ids), atol=logit_atol(logits.dtype, logits),
                 what="the result after changing input_ids[:, 0] and logits[:, -1]", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=logits_and_ids())
def test_does_not_modify_inputs(student, batch):
    """shifted_token_logprobs leaves its inputs unchanged (and returns the right log-probs)."""
    logits, input_ids = batch
    result = student.call("shifted_token_logprobs", logits, input_ids)
    assert not result.mutated, (
        f"shifted_token_logprobs modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.shifted_token_logprobs(logits, input_ids), atol=logit_atol(logits.dtype, logits),
                 inputs={"logits": logits, "input_ids": input_ids})
