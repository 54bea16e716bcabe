"""Hidden tests for ``sft_loss``: next-token cross-entropy on target tokens, mean over the batch's counted tokens."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_04.strategies import (
    assert_finite_where_expected,
    counted,
    loss_masks,
    rounding_atol,
    sft_batches,
)
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes

ref = reference_for(__file__)
pytestmark = pytest.mark.question("sft_loss")


def atol(batch: dict) -> float:
    return rounding_atol(batch["logits"].dtype, batch["logits"])


@pytest.mark.points(3)
@given(batch=sft_batches())
def test_matches_reference(student, batch):
    """The loss matches on random batches and loss masks (prompt/response/padding or any 0/1), float32 and float64."""
    assert_close(student.sft_loss(**batch), ref.sft_loss(**batch), atol=atol(batch), inputs=batch)


@pytest.mark.points(2)
@settings(max_examples=10)
@given(batch=sft_batches(min_counted=1))
def test_gradient_matches_reference(student, batch):
    """The gradient w.r.t. the logits matches (0 at positions whose next token is not a target)."""
    got = student.grad("sft_loss", (), batch, wrt=["logits"])
    _, expected = reference_grad(ref.sft_loss, (), batch, wrt=["logits"])
    assert_close(got.grads, expected, what="d loss / d logits", inputs=batch)


@pytest.mark.points(2)
@given(batch=sft_batches(large=True, min_counted=1))
def test_large_logits_are_stable(student, batch):
    """Logits as large as 1e4 in absolute value give a finite, accurate loss."""
    got = student.sft_loss(**batch)
    expected = ref.sft_loss(**batch)
    assert_finite_where_expected(got, expected, "the loss", batch,
                                 "log(softmax(x)) underflows to log(0): use F.log_softmax or F.cross_entropy.")
    assert_close(got, expected, atol=atol(batch), inputs=batch)


@st.composite
def one_target(draw):
    """A batch in which exactly one token (row b, position j >= 1) is a target."""
    batch = draw(sft_batches(min_seq=2))
    b = draw(st.integers(0, batch["logits"].shape[0] - 1))
    j = draw(st.integers(1, batch["logits"].shape[1] - 1))
    mask = torch.zeros_like(batch["loss_mask"])
    mask[b, j] = 1
    return {**batch, "loss_mask": mask}, b, j


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=one_target())
def test_the_mask_of_the_predicted_token_decides(student, case):
    """With a single target at position j, the loss is -log softmax(logits[:, j-1])[input_ids[:, j]]."""
    batch, b, j = case
    z = batch["logits"][b, j - 1].to(torch.float64)
    expected = (torch.logsumexp(z, dim=-1) - z[batch["input_ids"][b, j]]).to(batch["logits"].dtype)
    assert_close(student.sft_loss(**batch), expected, atol=atol(batch),
                 what=f"the loss when only loss_mask[{b}, {j}] is set", inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=sft_batches(min_counted=1))
def test_token_mean_over_the_whole_batch(student, batch):
    """The batch loss is the average of the row losses weighted by their number of targets (a token mean)."""
    got = student.sft_loss(**batch)
    rows = [{k: v[b:b + 1] for k, v in batch.items()} for b in range(batch["logits"].shape[0])]
    weights = [counted(row) for row in rows]
    total = sum(w * float(student.sft_loss(**row)) for w, row in zip(weights, rows) if w)
    expected = torch.tensor(total / sum(weights), dtype=batch["logits"].dtype)
    assert_close(got, expected, atol=atol(batch) * 4, what="the batch loss vs. the target-weighted row losses",
                 inputs=batch)
    assert_close(got, ref.sft_loss(**batch), atol=atol(batch), inputs=batch)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=st.sampled_from([torch.bool, torch.float32, torch.float64]))
def test_no_target_gives_nan(student, dtype, mask_dtype):
    """No counted target (all-zero mask, only loss_mask[:, 0] set, or T = 1) gives NaN; one target gives its loss."""
    logits = torch.zeros(2, 3, 4, dtype=dtype)
    ids = torch.tensor([[0, 1, 2], [3, 2, 1]])
    nan = torch.tensor(float("nan"), dtype=dtype)
    for mask in ([[0, 0, 0], [0, 0, 0]], [[1, 0, 0], [1, 0, 0]]):
        m = torch.tensor(mask).to(mask_dtype)
        assert_close(student.sft_loss(logits, ids, m), nan, what="the loss with no counted target",
                     inputs={"logits": logits, "input_ids": ids, "loss_mask": m})
    m1 = torch.ones(2, 1).to(mask_dtype)
    assert_close(student.sft_loss(logits[:, :1], ids[:, :1], m1), nan, what="the loss of sequences of length 1",
                 inputs={"logits": logits[:, :1], "input_ids": ids[:, :1], "loss_mask": m1})
    m = torch.tensor([[0, 0, 1], [0, 0, 0]]).to(mask_dtype)
    assert_close(student.sft_loss(logits, ids, m), torch.tensor(math.log(4.0), dtype=dtype),
                 what="the loss of one target under uniform logits (ln 4)",
                 inputs={"logits": logits, "input_ids": ids, "loss_mask": m})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(dtype=float_dtypes(), vocab=st.integers(2, 50), value=st.sampled_from([0.0, 2.5, -1e4, 1e4]), data=st.data())
def test_uniform_logits_give_log_V(student, dtype, vocab, value, data):
    """Equal logits everywhere (whatever their value) give a loss of ln V."""
    mask = data.draw(loss_masks(2, 4, min_counted=1))
    ids = torch.tensor(data.draw(st.lists(st.integers(0, vocab - 1), min_size=8, max_size=8))).reshape(2, 4)
    logits = torch.full((2, 4, vocab), value, dtype=dtype)
    inputs = {"logits": logits, "input_ids": ids, "loss_mask": mask}
    assert_close(student.sft_loss(**inputs), torch.tensor(math.log(vocab), dtype=dtype),
                 atol=rounding_atol(dtype, logits), what=f"the loss under uniform logits over V = {vocab}", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=sft_batches(dtype=torch.float32, mask_dtype=torch.float64))
def test_float64_mask_keeps_float32(student, batch):
    """float32 logits with a float64 loss mask give a float32 loss (the mask never promotes the result)."""
    assert_close(student.sft_loss(**batch), ref.sft_loss(**batch), atol=atol(batch), inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=sft_batches())
def test_does_not_modify_inputs(student, batch):
    """sft_loss leaves its inputs unchanged (and returns the right loss)."""
    result = student.call("sft_loss", **batch)
    assert not result.mutated, f"sft_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.sft_loss(**batch), atol=atol(batch), inputs=batch)
