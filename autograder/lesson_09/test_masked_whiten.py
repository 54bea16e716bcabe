"""Hidden tests for ``masked_whiten``: (x - masked mean) / sqrt(Bessel masked variance + eps), 0 at masked positions."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_09.strategies import (
    EXACT_VALUES,
    mask_dtypes,
    masked_tensors,
    masks,
    numel_of,
    shapes,
    whiten_atol,
)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("masked_whiten")
EPS = st.sampled_from([1e-8, 1e-5, 0.1, 1.0])


def whitened_batches(**kwargs):
    return masked_tensors(min_valid=2, spread=0.5, **kwargs)


@pytest.mark.points(3)
@given(batch=whitened_batches(), eps=EPS)
def test_matches_reference(student, batch, eps):
    """Whitened values match on random tensors (1-3 dims, any mask pattern, float32/64, bool/float masks, 4 eps)."""
    got = student.masked_whiten(**batch, eps=eps)
    assert_close(got, ref.masked_whiten(**batch, eps=eps), atol=whiten_atol(batch["x"], batch["mask"]),
                 inputs={**batch, "eps": eps})


@pytest.mark.points(1)
@given(batch=whitened_batches())
def test_zero_mean_unit_variance(student, batch):
    """With eps = 0 the valid outputs have mean 0 and Bessel-corrected variance 1; masked outputs are exactly 0."""
    x, mask = batch["x"], batch["mask"]
    got = student.masked_whiten(x, mask, eps=0.0)
    inputs = {**batch, "eps": 0.0}
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(x.shape), (
        f"expected a tensor of shape {tuple(x.shape)}, got {got!r}")
    valid = mask.bool()
    padded = got.double()[~valid]
    assert_close(padded, torch.zeros_like(padded), rtol=0.0, atol=0.0, what="the outputs at masked positions",
                 inputs=inputs)
    values = got.double()[valid]
    atol = whiten_atol(x, mask) * values.numel()
    assert_close(values.mean(), torch.tensor(0.0, dtype=torch.float64), atol=atol,
                 what="the mean of the valid outputs", inputs=inputs)
    assert_close(values.var(), torch.tensor(1.0, dtype=torch.float64), atol=atol,
                 what="the Bessel-corrected variance of the valid outputs", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=whitened_batches(), eps=EPS, data=st.data())
def test_padding_values_do_not_matter(student, batch, eps, data):
    """Changing x at masked positions changes nothing: those outputs stay 0 and the others keep their values."""
    x, mask = batch["x"], batch["mask"]
    junk = data.draw(tensors(tuple(x.shape), x.dtype, floats(-1000.0, 1000.0)), label="junk")
    other = {"x": torch.where(mask.bool(), x, junk), "mask": mask}
    assert_close(student.masked_whiten(**other, eps=eps), ref.masked_whiten(**batch, eps=eps),
                 atol=whiten_atol(x, mask), what="the result with other values at masked positions",
                 inputs={**other, "eps": eps})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=whitened_batches(dtype=torch.float64), shift=floats(-50.0, 50.0), scale=floats(0.25, 8.0))
def test_invariant_to_shift_and_scale(student, batch, shift, scale):
    """With eps = 0, whitening scale * x + shift (scale > 0) gives the same values as whitening x (both right)."""
    x, mask = batch["x"], batch["mask"]
    moved = {"x": scale * x + shift, "mask": mask, "eps": 0.0}
    expected = ref.masked_whiten(x, mask, eps=0.0)
    atol = whiten_atol(moved["x"], mask)
    assert_close(student.masked_whiten(x, mask, eps=0.0), expected, atol=atol, what="whiten(x)",
                 inputs={**batch, "eps": 0.0})
    assert_close(student.masked_whiten(**moved), expected, atol=atol, what="whiten(scale * x + shift)",
                 inputs={**moved, "scale": scale, "shift": shift})


@pytest.mark.points(1)
@settings(max_examples=15)
@given(dtype=float_dtypes(), mask_dtype=mask_dtypes(), shape=shapes(max_dims=2).filter(lambda s: numel_of(s) >= 2),
       data=st.data())
def test_constant_values_give_zero(student, dtype, mask_dtype, shape, data):
    """Valid values that are all equal whiten to 0 (eps avoids 0/0), next to a varied input whitened right."""
    mask = data.draw(masks(shape, dtype=mask_dtype, min_valid=2), label="mask")
    constant = data.draw(st.sampled_from(EXACT_VALUES), label="constant")
    junk = data.draw(tensors(shape, dtype), label="junk")
    x = torch.where(mask.bool(), torch.full(shape, constant, dtype=dtype), junk)
    assert_close(student.masked_whiten(x, mask), torch.zeros(shape, dtype=dtype),
                 what="whitening constant valid values", inputs={"x": x, "mask": mask})
    varied = x + torch.arange(x.numel(), dtype=dtype).reshape(shape)
    assert_close(student.masked_whiten(varied, mask), ref.masked_whiten(varied, mask), atol=whiten_atol(varied, mask),
                 what="whitening varied values", inputs={"x": varied, "mask": mask})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=whitened_batches(dtype=torch.float32, mask_dtype=torch.float64), eps=EPS)
def test_result_dtype_follows_x_not_mask(student, batch, eps):
    """float32 values with a float64 mask give float32 results (the mask must not promote them)."""
    got = student.masked_whiten(**batch, eps=eps)
    assert_close(got, ref.masked_whiten(**batch, eps=eps), atol=whiten_atol(batch["x"], batch["mask"]),
                 inputs={**batch, "eps": eps})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=whitened_batches(dtype=torch.float64))
def test_integer_x_gives_float32(student, batch):
    """Integer values (e.g. 0/1 rewards spread over tokens) give float32 results."""
    x = batch["x"].round().to(torch.int64)
    kwargs = {"x": x, "mask": batch["mask"]}
    assert_close(student.masked_whiten(**kwargs), ref.masked_whiten(**kwargs),
                 atol=whiten_atol(x.to(torch.float32), batch["mask"]), inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=whitened_batches(), eps=EPS)
def test_does_not_modify_inputs(student, batch, eps):
    """masked_whiten leaves x and the mask unchanged (and returns the right values)."""
    result = student.call("masked_whiten", batch["x"], batch["mask"], eps=eps)
    assert not result.mutated, f"masked_whiten modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.masked_whiten(**batch, eps=eps), atol=whiten_atol(batch["x"], batch["mask"]),
                 inputs={**batch, "eps": eps})
