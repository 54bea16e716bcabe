"""Hidden tests for ``value_loss_clipped``: 0.5 * max of the plain and the clipped squared error, a token mean."""

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from autograder.lesson_08.strategies import critic_batches, largest, scaled_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("value_loss_clipped")
CLIP_EPS = st.sampled_from([0.1, 0.2, 0.5, 1.0])


def loss_atol(batch: dict) -> float:
    """Rounding room for a mean of squared errors (the largest valid error sets the scale)."""
    values, old, returns = (batch[k].double() for k in ("values", "values_old", "returns"))
    worst = torch.maximum((values - returns).abs(), (old - returns).abs() + 1.0) ** 2
    return scaled_atol(batch["values"].dtype, largest(worst, batch["mask"]))


def away_from_kinks(batch: dict, clip_eps: float, margin: float = 1e-3) -> bool:
    """No valid token at the edge of the clip band or where the two squared errors tie outside it."""
    values, old, returns = (batch[k].double() for k in ("values", "values_old", "returns"))
    valid = batch["mask"].bool()
    move = (values - old)[valid]
    clipped = (old + (values - old).clamp(-clip_eps, clip_eps) - returns)[valid] ** 2
    plain = (values - returns)[valid] ** 2
    at_edge = ((move.abs() - clip_eps).abs() <= margin).any()
    tie_outside = ((move.abs() > clip_eps) & ((clipped - plain).abs() <= margin)).any()
    return not bool(at_edge or tie_outside)


@pytest.mark.points(3)
@given(batch=critic_batches(min_valid=0), clip_eps=CLIP_EPS)
def test_matches_reference(student, batch, clip_eps):
    """The loss matches on random padded batches (float32/float64, bool/float masks, several eps)."""
    got = student.value_loss_clipped(**batch, clip_eps=clip_eps)
    expected = ref.value_loss_clipped(**batch, clip_eps=clip_eps)
    assert_close(got, expected, atol=loss_atol(batch), inputs={**batch, "clip_eps": clip_eps})


@pytest.mark.points(2)
@given(batch=critic_batches(), clip_eps=CLIP_EPS)
def test_gradient_matches_reference(student, batch, clip_eps):
    """The gradient w.r.t. values matches (0 where the clipped error is the larger one, and on padding)."""
    assume(away_from_kinks(batch, clip_eps))
    kwargs = {**batch, "clip_eps": clip_eps}
    got = student.grad("value_loss_clipped", (), kwargs, wrt=["values"])
    _, expected = reference_grad(ref.value_loss_clipped, (), kwargs, wrt=["values"])
    assert_close(got.grads, expected, what="d loss / d values", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=critic_batches())
def test_unmoved_critic_is_half_mse(student, batch):
    """With values == values_old nothing is clipped: the loss is half the masked mean squared error."""
    batch = {**batch, "values_old": batch["values"].clone()}
    m = batch["mask"].to(torch.float64)
    errors = (batch["values"].double() - batch["returns"].double()) ** 2
    dtype = batch["values"].dtype
    expected = (0.5 * (errors * m).sum() / m.sum()).to(dtype)
    assert_close(student.value_loss_clipped(**batch), expected, what="the loss with values == values_old",
                 atol=loss_atol(batch), inputs=batch)


@pytest.mark.points(1)
@given(batch=critic_batches(), clip_eps=CLIP_EPS)
def test_never_below_half_mse(student, batch, clip_eps):
    """The pessimistic max makes the loss at least the unclipped half mean squared error."""
    m = batch["mask"].to(torch.float64)
    errors = (batch["values"].double() - batch["returns"].double()) ** 2
    floor = float(0.5 * (errors * m).sum() / m.sum())
    got = student.value_loss_clipped(**batch, clip_eps=clip_eps)
    assert isinstance(got, torch.Tensor) and got.dim() == 0, f"the loss should be a 0-dim tensor, got {got!r}"
    slack = loss_atol(batch) + 1e-4 * abs(floor)
    assert float(got) >= floor - slack, (
        f"the loss {float(got)!r} is below the unclipped half MSE {floor!r}: the clipped error should only ever "
        f"make it larger (max, not min)\n  inputs: {batch}, clip_eps={clip_eps}")


@pytest.mark.points(1)
@given(batch=critic_batches(min_valid=0), data=st.data())
def test_padding_values_do_not_matter(student, batch, data):
    """Other values, values_old and returns at padded positions give the same (right) loss."""
    pad = ~batch["mask"].bool()
    shape, dtype = tuple(batch["values"].shape), batch["values"].dtype
    other = {k: (torch.where(pad, data.draw(tensors(shape, dtype)), v) if k != "mask" else v) for k, v in batch.items()}
    assert_close(student.value_loss_clipped(**other), ref.value_loss_clipped(**batch), atol=loss_atol(batch),
                 what="the loss with other padding values", inputs=other)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=st.sampled_from([torch.bool, torch.float32, torch.float64]))
def test_empty_mask_gives_nan(student, dtype, mask_dtype):
    """A mask without any valid token gives NaN (0/0)."""
    batch = {"values": torch.ones(2, 3, dtype=dtype), "values_old": torch.zeros(2, 3, dtype=dtype),
             "returns": torch.full((2, 3), 2.0, dtype=dtype), "mask": torch.zeros(2, 3, dtype=mask_dtype)}
    assert_close(student.value_loss_clipped(**batch), torch.tensor(float("nan"), dtype=dtype),
                 what="the loss on an empty mask", inputs=batch)


@pytest.mark.points(1)
@given(batch=critic_batches(dtype=torch.float32, mask_dtype=torch.float64, min_valid=0))
def test_result_dtype_follows_values_not_mask(student, batch):
    """float32 values with a float64 mask still give a float32 loss (the mask must not promote it)."""
    assert_close(student.value_loss_clipped(**batch), ref.value_loss_clipped(**batch), atol=loss_atol(batch),
                 inputs=batch)


@pytest.mark.points(1)
@given(batch=critic_batches(min_valid=0))
def test_does_not_modify_inputs(student, batch):
    """value_loss_clipped leaves its input tensors unchanged (and returns the right loss)."""
    result = student.call("value_loss_clipped", **batch)
    assert not result.mutated, (
        f"value_loss_clipped modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.value_loss_clipped(**batch), atol=loss_atol(batch), inputs=batch)
