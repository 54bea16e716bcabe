"""Hidden tests for ``microbatch_loss``: sum(loss * mask) / N_total, so accumulated gradients equal the full batch's."""

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_09.strategies import (
    classifier_batches,
    largest,
    mask_dtypes,
    microbatches,
    per_token_cross_entropy,
    scaled_atol,
)
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes

ref = reference_for(__file__)
pytestmark = pytest.mark.question("microbatch_loss")


def loss_atol(batch: dict) -> float:
    return scaled_atol(batch["per_token_loss"].dtype, largest(batch["per_token_loss"], batch["mask"]))


@pytest.mark.points(2)
@given(batch=microbatches())
def test_matches_reference(student, batch):
    """Microbatch losses match on random padded microbatches (empty rows, float32/64, bool/float masks)."""
    assert_close(student.microbatch_loss(**batch), ref.microbatch_loss(**batch), atol=loss_atol(batch), inputs=batch)


@pytest.mark.points(2)
@given(batch=microbatches())
def test_gradient_matches_reference(student, batch):
    """The gradient w.r.t. per_token_loss is 1 / total_valid_tokens at valid tokens and 0 on padding."""
    got = student.grad("microbatch_loss", (), batch, wrt=["per_token_loss"])
    _, expected = reference_grad(ref.microbatch_loss, (), batch, wrt=["per_token_loss"])
    assert_close(got.grads, expected, what="d loss / d per_token_loss", inputs=batch)


@pytest.mark.points(3)
@settings(max_examples=15)
@given(batch=classifier_batches())
def test_accumulated_gradient_equals_full_batch_gradient(student, batch):
    """Summed over a random microbatch split, losses and backpropagated model gradients equal the full batch's."""
    weight = batch["weight"].clone().requires_grad_(True)
    per_token = per_token_cross_entropy(batch["features"], batch["targets"], weight)   # (B, T)
    mask, total = batch["mask"], int(batch["mask"].bool().sum())
    full_loss = ref.masked_mean(per_token, mask)
    (full_grad,) = torch.autograd.grad(full_loss, weight, retain_graph=True)
    accumulated_loss = torch.zeros((), dtype=torch.float64)
    accumulated_grad = torch.zeros_like(weight)
    inputs = {"per_token_loss (full batch)": per_token.detach(), "mask": mask, "splits (rows)": batch["splits"]}
    for rows in batch["splits"]:
        piece = per_token[rows]                                                         # (b, T)
        kwargs = {"per_token_loss": piece.detach(), "mask": mask[rows], "total_valid_tokens": total}
        result = student.grad("microbatch_loss", (), kwargs, wrt=["per_token_loss"])
        value = result.value
        assert isinstance(value, torch.Tensor) and value.dim() == 0, (
            f"microbatch_loss should return a 0-dim tensor, got {value!r}")
        accumulated_loss = accumulated_loss + value.double()
        (d_piece,) = result.grads
        # chain rule through the model: what backward() would add to weight.grad for this microbatch
        (grad,) = torch.autograd.grad(piece, weight, grad_outputs=d_piece.to(piece.dtype), retain_graph=True)
        accumulated_grad = accumulated_grad + grad
    atol = scaled_atol(per_token.dtype, largest(per_token, mask)) * 2
    assert_close(accumulated_loss, full_loss.detach().double(), atol=atol,
                 what="the sum of the microbatch losses vs the full batch's token mean", inputs=inputs)
    assert_close(accumulated_grad, full_grad, atol=atol,
                 what="the accumulated gradient w.r.t. the model's weight vs the full-batch gradient", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=6)
@given(dtype=float_dtypes(), mask_dtype=mask_dtypes())
def test_padding_only_microbatch_gives_zero(student, dtype, mask_dtype):
    """A microbatch with no valid token gives loss 0 and gradient 0 (never NaN); a normal one its share."""
    per_token = torch.tensor([[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]], dtype=dtype)
    empty = {"per_token_loss": per_token, "mask": torch.zeros(2, 3).to(mask_dtype), "total_valid_tokens": 5}
    got = student.grad("microbatch_loss", (), empty, wrt=["per_token_loss"])
    assert_close(got.value, torch.tensor(0.0, dtype=dtype), what="the loss of a padding-only microbatch", inputs=empty)
    assert_close(got.grads, (torch.zeros_like(per_token),), what="its gradient", inputs=empty)
    normal = {**empty, "mask": torch.tensor([[1, 1, 0], [1, 0, 0]]).to(mask_dtype)}
    assert_close(student.microbatch_loss(**normal), torch.tensor(2.0, dtype=dtype),
                 what="the loss of a microbatch with 3 of the batch's 5 valid tokens (losses 2, 3, 5)", inputs=normal)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=microbatches(dtype=torch.float32, mask_dtype=torch.float64))
def test_result_dtype_follows_losses_not_mask(student, batch):
    """float32 losses with a float64 mask give a float32 loss (the mask must not promote it)."""
    assert_close(student.microbatch_loss(**batch), ref.microbatch_loss(**batch), atol=loss_atol(batch), inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=microbatches())
def test_does_not_modify_inputs(student, batch):
    """microbatch_loss leaves its input tensors unchanged (and returns the right loss)."""
    result = student.call("microbatch_loss", **batch)
    assert not result.mutated, f"microbatch_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.microbatch_loss(**batch), atol=loss_atol(batch), inputs=batch)
