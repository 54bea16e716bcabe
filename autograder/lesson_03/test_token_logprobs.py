"""Hidden tests for ``token_logprobs``: log_softmax(logits)[labels] at each (already aligned) position."""

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
from rlgrade.testing.strategies import floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("token_logprobs")

STABILITY_HINT = "log(softmax(x)) underflows to log(0) = -inf and exp overflows: use F.log_softmax or logsumexp."


@pytest.mark.points(3)
@given(batch=logits_and_ids())
def test_matches_reference(student, batch):
    """Log-probs match on random logits and labels, float32 and float64."""
    logits, labels = batch
    inputs = {"logits": logits, "labels": labels}
    assert_close(student.token_logprobs(logits, labels), ref.token_logprobs(logits, labels),
                 atol=logit_atol(logits.dtype, logits), inputs=inputs)


@pytest.mark.points(2)
@settings(max_examples=10)
@given(batch=logits_and_ids(), data=st.data())
def test_gradient_matches_reference(student, batch, data):
    """The gradient w.r.t. the logits matches (onehot(label) - softmax, times the upstream gradient)."""
    logits, labels = batch
    cotangent = data.draw(tensors(tuple(labels.shape), logits.dtype, floats(-1.0, 1.0)))
    got = student.grad("token_logprobs", (logits, labels), wrt=[0], cotangent=cotangent)
    _, expected = reference_grad(ref.token_logprobs, (logits, labels), wrt=[0], cotangent=cotangent)
    assert_close(got.grads, expected, what="d/d logits", inputs={"logits": logits, "labels": labels})


@pytest.mark.points(2)
@settings(max_examples=15)
@given(batch=logits_and_ids(large=True))
def test_large_logits_are_stable(student, batch):
    """Logits as large as 1e4 in absolute value give finite, accurate log-probs (as low as -2e4)."""
    logits, labels = batch
    inputs = {"logits": logits, "labels": labels}
    got = student.token_logprobs(logits, labels)
    expected = ref.token_logprobs(logits, labels)
    assert_finite_where_expected(got, expected, "token_logprobs", inputs, STABILITY_HINT)
    assert_close(got, expected, atol=logit_atol(logits.dtype, logits), inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=logits_and_ids())
def test_probabilities_sum_to_one(student, batch):
    """At each position, exp(log-prob) summed over every possible label is 1, and every log-prob is <= 0."""
    logits, _ = batch
    b, t, vocab = logits.shape
    # one call: the batch repeated V times, block v labelled with token v everywhere
    repeated = logits.repeat(vocab, 1, 1)                                            # (V * B, T, V)
    labels = torch.arange(vocab).repeat_interleave(b)[:, None].expand(vocab * b, t).contiguous()
    inputs = {"logits": repeated, "labels": labels}
    got = student.token_logprobs(repeated, labels)
    expected = ref.token_logprobs(repeated, labels)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(expected.shape), (
        f"expected a tensor of shape {tuple(expected.shape)}, got {got!r}")
    totals = got.to(torch.float64).exp().reshape(vocab, b, t).sum(dim=0)
    assert_close(totals, torch.ones(b, t, dtype=torch.float64), atol=1e-4 if logits.dtype == torch.float32 else 1e-9,
                 what="sum over all labels v of exp(log-prob of v)", inputs=inputs)
    largest = float(got.max())
    assert largest <= 1e-6, f"a log-probability is positive ({largest!r}); log-probs are <= 0"
    assert_close(got, expected, atol=logit_atol(logits.dtype, logits), inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=logits_and_ids(), data=st.data())
def test_adding_a_constant_to_a_position_changes_nothing(student, batch, data):
    """Adding the same constant to all logits of a position (softmax is shift-invariant) gives the same log-probs."""
    logits, labels = batch
    shift = data.draw(tensors(tuple(labels.shape), logits.dtype, floats(-50.0, 50.0)))
    shifted = logits + shift[..., None]
    inputs = {"logits": shifted, "labels": labels}
    assert_close(student.token_logprobs(shifted, labels), ref.token_logprobs(logits, labels),
                 atol=logit_atol(logits.dtype, shifted) * 4, what="the log-probs of the shifted logits", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=logits_and_ids())
def test_does_not_modify_inputs(student, batch):
    """token_logprobs leaves the logits and labels unchanged (and returns the right log-probs)."""
    logits, labels = batch
    result = student.call("token_logprobs", logits, labels)
    assert not result.mutated, f"token_logprobs modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.token_logprobs(logits, labels), atol=logit_atol(logits.dtype, logits),
                 inputs={"logits": logits, "labels": labels})
