"""Hidden tests for ``masked_mean``: sum(x * mask) / sum(mask), over everything or along one dimension."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_09.strategies import (
    dims,
    largest,
    mask_dtypes,
    masked_tensors,
    scaled_atol,
)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("masked_mean")


def mean_atol(batch: dict) -> float:
    return scaled_atol(batch["x"].dtype, largest(batch["x"], batch["mask"]))


@pytest.mark.points(3)
@given(batch=masked_tensors(), data=st.data())
def test_matches_reference(student, batch, data):
    """Masked means match over everything and along every dim (negative too), 1-3 dims, float32/64, bool/float masks."""
    dim = data.draw(dims(batch["x"].dim()), label="dim")
    got = student.masked_mean(**batch, dim=dim)
    assert_close(got, ref.masked_mean(**batch, dim=dim), atol=mean_atol(batch), inputs={**batch, "dim": dim})


@pytest.mark.points(1)
@settings(max_examples=6)
@given(dtype=float_dtypes(), mask_dtype=mask_dtypes())
def test_empty_sets_give_nan(student, dtype, mask_dtype):
    """A set without valid positions has mean NaN (0/0), not 0; the other means are unaffected."""
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [-1.0, 0.5, 8.0]], dtype=dtype)
    mask = torch.tensor([[1, 1, 0], [0, 0, 0], [1, 0, 0]]).to(mask_dtype)
    nan = float("nan")
    inputs = {"x": x, "mask": mask, "dim": 1}
    assert_close(student.masked_mean(x, mask, dim=1), torch.tensor([1.5, nan, -1.0], dtype=dtype),
                 what="the row means (row 1 has no valid entry)", inputs=inputs)
    assert_close(student.masked_mean(x, mask, dim=0), torch.tensor([0.0, 2.0, nan], dtype=dtype),
                 what="the column means (column 2 has no valid entry)", inputs={**inputs, "dim": 0})
    empty = torch.zeros(3, 3).to(mask_dtype)
    assert_close(student.masked_mean(x, empty), torch.tensor(nan, dtype=dtype),
                 what="the mean over an all-zero mask", inputs={"x": x, "mask": empty, "dim": None})


@pytest.mark.points(1)
@given(batch=masked_tensors(min_valid=1, max_dims=2))
def test_overall_mean_weights_every_token(student, batch):
    """dim=None is the token mean: the per-row means weighted by their valid counts (not the mean of the row means)."""
    x, mask = batch["x"], batch["mask"]
    overall = student.masked_mean(x, mask)
    assert_close(overall, ref.masked_mean(x, mask), atol=mean_atol(batch), what="the mean over everything",
                 inputs=batch)
    rows = student.masked_mean(x, mask, dim=-1)
    counts = mask.bool().to(torch.float64).sum(dim=-1)
    assert isinstance(rows, torch.Tensor) and tuple(rows.shape) == tuple(counts.shape), (
        f"masked_mean(x, mask, dim=-1) should have shape {tuple(counts.shape)}, got {rows!r}")
    valid_rows = counts > 0
    weighted = (rows.double()[valid_rows] * counts[valid_rows]).sum() / counts.sum()
    assert_close(overall.double(), weighted, atol=mean_atol(batch),
                 what="the overall mean vs the count-weighted mean of your row means (dim=-1)", inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=masked_tensors(), data=st.data())
def test_padding_values_do_not_matter(student, batch, data):
    """Changing x at masked positions does not change any mean (and the means are right)."""
    x, mask = batch["x"], batch["mask"]
    dim = data.draw(dims(x.dim()), label="dim")
    junk = data.draw(tensors(tuple(x.shape), x.dtype, floats(-1000.0, 1000.0)), label="junk")
    other = {"x": torch.where(mask.bool(), x, junk), "mask": mask}
    assert_close(student.masked_mean(**other, dim=dim), ref.masked_mean(**batch, dim=dim), atol=mean_atol(batch),
                 what="the mean with other values at masked positions", inputs={**other, "dim": dim})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=masked_tensors(dtype=torch.float32, mask_dtype=torch.float64), data=st.data())
def test_result_dtype_follows_x_not_mask(student, batch, data):
    """float32 values with a float64 mask give float32 means (the mask must not promote them)."""
    dim = data.draw(dims(batch["x"].dim()), label="dim")
    got = student.masked_mean(**batch, dim=dim)
    assert_close(got, ref.masked_mean(**batch, dim=dim), atol=mean_atol(batch), inputs={**batch, "dim": dim})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=masked_tensors(dtype=torch.float64), data=st.data())
def test_integer_x_gives_float32(student, batch, data):
    """Integer values (e.g. 0/1 correctness or token counts) give float32 means."""
    x = (batch["x"] * 3).round().to(torch.int64)
    dim = data.draw(dims(x.dim()), label="dim")
    kwargs = {"x": x, "mask": batch["mask"], "dim": dim}
    assert_close(student.masked_mean(**kwargs), ref.masked_mean(**kwargs), atol=scaled_atol(torch.float32, 30.0),
                 inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=masked_tensors(), data=st.data())
def test_does_not_modify_inputs(student, batch, data):
    """masked_mean leaves x and the mask unchanged (and returns the right means)."""
    dim = data.draw(dims(batch["x"].dim()), label="dim")
    result = student.call("masked_mean", batch["x"], batch["mask"], dim=dim)
    assert not result.mutated, f"masked_mean modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.masked_mean(**batch, dim=dim), atol=mean_atol(batch), inputs={**batch, "dim": dim})
