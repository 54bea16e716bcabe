"""Hidden tests for ``aggregate_token_loss``: token mean (DAPO), mean of per-sequence means (GRPO), sum / (B L_max)."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_08.strategies import largest, scaled_atol, token_losses
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("aggregate_token_loss")
MODES = st.sampled_from(["token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"])
MAX_LENS = st.sampled_from([None, None, 6, 8, 16])


def loss_atol(batch: dict) -> float:
    return scaled_atol(batch["per_token"].dtype, largest(batch["per_token"], batch["mask"]))


@pytest.mark.points(3)
@given(batch=token_losses(), mode=MODES, max_len=MAX_LENS)
def test_matches_reference(student, batch, mode, max_len):
    """Every mode matches on random padded batches with empty rows (float32/float64, bool/float masks, max_len)."""
    kwargs = {**batch, "mode": mode, "max_len": max_len}
    assert_close(student.aggregate_token_loss(**kwargs), ref.aggregate_token_loss(**kwargs), atol=loss_atol(batch),
                 inputs=kwargs)


@pytest.mark.points(2)
@given(batch=token_losses(min_valid=1), mode=MODES, max_len=MAX_LENS)
def test_gradient_matches_reference(student, batch, mode, max_len):
    """The gradient w.r.t. per_token matches: each valid token's weight, 0 (never NaN) on padding and empty rows."""
    kwargs = {**batch, "mode": mode, "max_len": max_len}
    got = student.grad("aggregate_token_loss", (), kwargs, wrt=["per_token"])
    _, expected = reference_grad(ref.aggregate_token_loss, (), kwargs, wrt=["per_token"])
    assert_close(got.grads, expected, what="d loss / d per_token", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=st.sampled_from([torch.bool, torch.float32, torch.float64]), mode=MODES)
def test_empty_rows_get_zero_gradient(student, dtype, mask_dtype, mode):
    """A batch with an empty row: finite loss, gradient exactly 0 on that row and on the padding."""
    per_token = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], dtype=dtype)
    mask = torch.tensor([[1, 1, 0], [0, 0, 0], [1, 1, 1]]).to(mask_dtype)
    kwargs = {"per_token": per_token, "mask": mask, "mode": mode}
    got = student.grad("aggregate_token_loss", (), kwargs, wrt=["per_token"])
    _, expected = reference_grad(ref.aggregate_token_loss, (), kwargs, wrt=["per_token"])
    assert_close(got.grads, expected, what="d loss / d per_token with an empty row", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), data=st.data())
def test_full_rows_all_modes_agree(student, dtype, data):
    """Without padding (every row has T valid tokens) all three modes give the plain mean."""
    batch, seq = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 6))
    per_token = data.draw(tensors((batch, seq), dtype))
    mask = torch.ones(batch, seq, dtype=data.draw(st.sampled_from([torch.bool, dtype])))
    expected = per_token.double().mean().to(dtype)
    atol = scaled_atol(dtype, largest(per_token))
    for mode in ("token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"):
        assert_close(student.aggregate_token_loss(per_token, mask, mode), expected, atol=atol,
                     what=f"mode={mode!r} without padding", inputs={"per_token": per_token, "mask": mask})


@pytest.mark.points(1)
@given(batch=token_losses(min_valid=1), max_len=MAX_LENS)
def test_adding_an_empty_row(student, batch, max_len):
    """An extra empty row changes neither (right) mean mode, and scales "seq_mean_token_sum_norm" by B / (B + 1)."""
    per_token, mask = batch["per_token"], batch["mask"]
    longer = {"per_token": torch.cat([per_token, torch.full_like(per_token[:1], 3.0)]),
              "mask": torch.cat([mask, torch.zeros_like(mask[:1])])}
    b = per_token.shape[0]
    for mode in ("token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"):
        before = ref.aggregate_token_loss(per_token, mask, mode, max_len)
        after = student.aggregate_token_loss(**longer, mode=mode, max_len=max_len)
        factor = b / (b + 1) if mode == "seq_mean_token_sum_norm" else 1.0
        expected = before * factor
        assert_close(after, expected, atol=loss_atol(batch), what=f"mode={mode!r} after adding an empty row",
                     inputs={**longer, "max_len": max_len})


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=st.sampled_from([torch.bool, torch.float32, torch.float64]),
       max_len=st.sampled_from([None, 8]))
def test_all_empty_mask(student, dtype, mask_dtype, max_len):
    """Without any valid token the two mean modes are NaN (0/0) and "seq_mean_token_sum_norm" is 0."""
    per_token = torch.full((2, 3), 5.0, dtype=dtype)
    mask = torch.zeros(2, 3, dtype=mask_dtype)
    for mode, value in (("token_mean", float("nan")), ("seq_mean_token_mean", float("nan")),
                        ("seq_mean_token_sum_norm", 0.0)):
        assert_close(student.aggregate_token_loss(per_token, mask, mode, max_len), torch.tensor(value, dtype=dtype),
                     what=f"mode={mode!r} on an all-empty mask",
                     inputs={"per_token": per_token, "mask": mask, "max_len": max_len})


@pytest.mark.points(1)
@given(batch=token_losses(), mode=MODES, data=st.data())
def test_padding_values_do_not_matter(student, batch, mode, data):
    """Other per_token values at padded positions give the same (right) result."""
    pad = ~batch["mask"].bool()
    per_token = batch["per_token"]
    other = {**batch, "per_token": torch.where(pad, data.draw(tensors(tuple(per_token.shape), per_token.dtype)),
                                                per_token)}
    assert_close(student.aggregate_token_loss(**other, mode=mode), ref.aggregate_token_loss(**batch, mode=mode),
                 atol=loss_atol(batch), what="the loss with other padding values", inputs={**other, "mode": mode})


@pytest.mark.points(1)
@given(batch=token_losses(dtype=torch.float32, mask_dtype=torch.float64), mode=MODES)
def test_result_dtype_follows_per_token_not_mask(student, batch, mode):
    """float32 losses with a float64 mask still give a float32 result (the mask must not promote it)."""
    kwargs = {**batch, "mode": mode}
    assert_close(student.aggregate_token_loss(**kwargs), ref.aggregate_token_loss(**kwargs), atol=loss_atol(batch),
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_losses(), mode=MODES)
def test_does_not_modify_inputs(student, batch, mode):
    """aggregate_token_loss leaves its input tensors unchanged (and returns the right result)."""
    result = student.call("aggregate_token_loss", **batch, mode=mode)
    assert not result.mutated, (
        f"aggregate_token_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.aggregate_token_loss(**batch, mode=mode), atol=loss_atol(batch),
                 inputs={**batch, "mode": mode})
