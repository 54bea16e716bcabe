"""Hidden tests for ``sequence_logprob``: the sum (or masked mean) of each response's valid token log-probs."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_08.preference_strategies import token_logprob_batches
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("sequence_logprob")
AVERAGE = st.booleans()
MASK_DTYPES = st.sampled_from([torch.bool, torch.float32, torch.float64])


@pytest.mark.points(3)
@given(batch=token_logprob_batches(), average=AVERAGE)
def test_matches_reference(student, batch, average):
    """Sums and averages match on random padded batches (float32/float64, bool/float masks, empty rows)."""
    got = student.sequence_logprob(**batch, average=average)
    assert_close(got, ref.sequence_logprob(**batch, average=average), inputs={**batch, "average": average})


@pytest.mark.points(1)
@given(batch=token_logprob_batches(allow_empty_rows=False))
def test_average_times_length_is_the_sum(student, batch):
    """For every row, the average times the number of valid tokens equals the sum (and both are right)."""
    total = student.sequence_logprob(**batch, average=False)
    mean = student.sequence_logprob(**batch, average=True)
    lengths = batch["mask"].to(torch.float64).sum(dim=1)
    assert isinstance(mean, torch.Tensor), f"the average should be a tensor, got {type(mean).__name__}"
    assert_close(total, (mean.double() * lengths).to(mean.dtype), what="the sum (compared with average * length)",
                 inputs=batch)
    assert_close(total, ref.sequence_logprob(**batch), what="the sum", inputs=batch)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES)
def test_empty_rows(student, dtype, mask_dtype):
    """A row without a valid token has sum 0 and average NaN (0/0); other rows are unaffected."""
    token_logps = torch.tensor([[-1.0, -2.0, -3.0], [-0.5, -4.0, -2.0], [-0.25, -1.0, -1.0]], dtype=dtype)
    batch = {"token_logps": token_logps, "mask": torch.tensor([[1, 1, 1], [0, 0, 0], [1, 0, 0]]).to(mask_dtype)}
    assert_close(student.sequence_logprob(**batch), torch.tensor([-6.0, 0.0, -0.25], dtype=dtype),
                 what="the sums", inputs=batch)
    nan = float("nan")
    assert_close(student.sequence_logprob(**batch, average=True), torch.tensor([-2.0, nan, -0.25], dtype=dtype),
                 what="the averages", inputs={**batch, "average": True})
    empty = {**batch, "mask": torch.zeros(3, 3).to(mask_dtype)}
    assert_close(student.sequence_logprob(**empty, average=True), torch.full((3,), nan, dtype=dtype),
                 what="the averages of an all-padding batch", inputs={**empty, "average": True})


@pytest.mark.points(1)
@given(batch=token_logprob_batches(), average=AVERAGE, data=st.data())
def test_padding_values_do_not_matter(student, batch, average, data):
    """Changing token_logps at padded positions changes neither the sums nor the averages (still the right ones)."""
    shape, dtype = tuple(batch["token_logps"].shape), batch["token_logps"].dtype
    junk = data.draw(tensors(shape, dtype, floats(-100.0, 0.0)))
    other = {**batch, "token_logps": torch.where(batch["mask"].bool(), batch["token_logps"], junk)}
    assert_close(student.sequence_logprob(**other, average=average),
                 ref.sequence_logprob(**batch, average=average),
                 what="the result with other padding values", inputs={**other, "average": average})


@pytest.mark.points(1)
@given(batch=token_logprob_batches(dtype=torch.float32, mask_dtype=torch.float64), average=AVERAGE)
def test_result_dtype_follows_logps_not_mask(student, batch, average):
    """float32 log-probs with a float64 mask still give float32 results (the mask must not promote them)."""
    got = student.sequence_logprob(**batch, average=average)
    assert_close(got, ref.sequence_logprob(**batch, average=average), inputs={**batch, "average": average})


@pytest.mark.points(1)
@given(batch=token_logprob_batches(large=True), average=AVERAGE)
def test_large_logprobs(student, batch, average):
    """Token log-probs near -1e4 give accurate sums and averages."""
    got = student.sequence_logprob(**batch, average=average)
    assert_close(got, ref.sequence_logprob(**batch, average=average), inputs={**batch, "average": average})


@pytest.mark.points(1)
@given(data=st.data(), average=AVERAGE)
def test_gradient_flows_through_token_logps(student, data, average):
    """The result is differentiable w.r.t. token_logps: d/d token = mask (sum) or mask / length (average)."""
    batch = data.draw(token_logprob_batches(allow_empty_rows=not average))
    kwargs = {**batch, "average": average}
    logps = batch["token_logps"]
    cotangent = data.draw(tensors((logps.shape[0],), logps.dtype, floats(-1.0, 1.0)))
    got = student.grad("sequence_logprob", (), kwargs, wrt=["token_logps"], cotangent=cotangent)
    _, expected = reference_grad(ref.sequence_logprob, (), kwargs, wrt=["token_logps"], cotangent=cotangent)
    assert_close(got.grads, expected, what="d result / d token_logps", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_logprob_batches(), average=AVERAGE)
def test_does_not_modify_inputs(student, batch, average):
    """sequence_logprob leaves its input tensors unchanged (and returns the right result)."""
    result = student.call("sequence_logprob", **batch, average=average)
    assert not result.mutated, f"sequence_logprob modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.sequence_logprob(**batch, average=average), inputs={**batch, "average": average})
