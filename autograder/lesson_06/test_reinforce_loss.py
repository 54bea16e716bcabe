"""Hidden tests for ``reinforce_loss``: -(1/B) sum_{b,t} mask * logprobs * weights."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_06.strategies import (
    LARGE,
    SECONDARY_EXAMPLES,
    largest,
    other_padding,
    policy_batches,
    scaled_atol,
)
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("reinforce_loss")


def loss_atol(batch: dict) -> float:
    """Rounding room: the loss adds up to B * T products |logprob * weight|."""
    logprobs, weights, mask = batch["logprobs"], batch["weights"], batch["mask"]
    terms = (logprobs.double() * weights.double()).abs()
    return scaled_atol(logprobs.dtype, logprobs.shape[1] * largest(terms, mask))


@pytest.mark.points(3)
@given(batch=policy_batches())
def test_matches_reference(student, batch):
    """The loss matches on padded batches with empty rows (float32/float64, bool/float masks)."""
    got = student.reinforce_loss(**batch)
    assert_close(got, ref.reinforce_loss(**batch), atol=loss_atol(batch), inputs=batch)


@pytest.mark.points(2)
@given(batch=policy_batches(min_valid=1))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_gradient_is_minus_masked_weights_over_batch(student, batch):
    """d loss / d logprobs = -mask * weights / B, with B counting every row (0 on padding and empty rows)."""
    got = student.grad("reinforce_loss", (), batch, wrt=["logprobs"])
    logprobs, weights, mask = batch["logprobs"], batch["weights"], batch["mask"]
    expected = (-(mask.double() * weights.double()) / logprobs.shape[0]).to(logprobs.dtype)
    assert_close(got.grads, (expected,), what="d loss / d logprobs", inputs=batch)


@pytest.mark.points(1)
@given(batch=policy_batches())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_empty_rows_count_in_the_batch(student, batch):
    """Appending a row without valid steps multiplies the loss by B / (B + 1): the mean is over trajectories."""
    logprobs, weights, mask = batch["logprobs"], batch["weights"], batch["mask"]
    longer = {"logprobs": torch.cat([logprobs, torch.full_like(logprobs[:1], -3.0)]),
              "weights": torch.cat([weights, torch.full_like(weights[:1], 7.0)]),
              "mask": torch.cat([mask, torch.zeros_like(mask[:1])])}
    b = mask.shape[0]
    expected = ref.reinforce_loss(**batch) * (b / (b + 1))
    assert_close(student.reinforce_loss(**longer), expected, atol=loss_atol(batch),
                 what="the loss after appending an empty row", inputs=longer)


@pytest.mark.points(1)
@given(batch=policy_batches(), data=st.data())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_padding_values_do_not_matter(student, batch, data):
    """Other log-prob and weight values at padded positions give the same (right) loss."""
    mask = batch["mask"]
    other = {"logprobs": other_padding(data, batch["logprobs"], mask, junk=20.0),
             "weights": other_padding(data, batch["weights"], mask), "mask": mask}
    assert_close(student.reinforce_loss(**other), ref.reinforce_loss(**batch), atol=loss_atol(batch),
                 what="the loss with other padding values", inputs=other)


@pytest.mark.points(1)
@given(batch=policy_batches(dtype=torch.float32, mask_dtype=torch.float64))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_result_dtype_follows_logprobs_not_mask(student, batch):
    """float32 log-probs with a float64 mask give a float32 0-dim loss (the mask must not promote it)."""
    assert_close(student.reinforce_loss(**batch), ref.reinforce_loss(**batch), atol=loss_atol(batch), inputs=batch)


@pytest.mark.points(1)
@given(batch=policy_batches(offset=-LARGE, min_valid=1))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_large_logprobs_are_accurate(student, batch):
    """Log-probs near -1e4 give a finite, accurate loss (work with the log-probs, never exp() them)."""
    assert_close(student.reinforce_loss(**batch), ref.reinforce_loss(**batch), atol=loss_atol(batch), inputs=batch)


@pytest.mark.points(1)
@given(batch=policy_batches())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_does_not_modify_inputs(student, batch):
    """reinforce_loss leaves its input tensors unchanged (and returns the right loss)."""
    result = student.call("reinforce_loss", **batch)
    assert not result.mutated, f"reinforce_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.reinforce_loss(**batch), atol=loss_atol(batch), inputs=batch)
