"""Hidden tests for ``perplexity``: exp(-masked mean of the token log-probs over every valid token of the batch)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_03.strategies import (
    assert_finite_where_expected,
    token_logp_batches,
)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, response_masks

ref = reference_for(__file__)
pytestmark = pytest.mark.question("perplexity")
MASK_DTYPES = st.sampled_from([torch.bool, torch.float32, torch.float64])


def ppl_rtol(batch: dict) -> float:
    """exp(-m): a rounding error e in the mean m is a relative error e in the result; e grows with |m|."""
    dtype = batch["token_logps"].dtype
    valid = batch["token_logps"].to(torch.float64)[batch["mask"].bool()]
    largest = float(valid.abs().max()) if valid.numel() else 1.0
    return 128 * torch.finfo(dtype).eps * max(1.0, largest) + (1e-5 if dtype == torch.float32 else 1e-9)


@pytest.mark.points(3)
@given(batch=token_logp_batches())
def test_matches_reference(student, batch):
    """Perplexity matches on random padded batches (empty rows, bool/float masks, float32/float64)."""
    assert_close(student.perplexity(**batch), ref.perplexity(**batch), rtol=ppl_rtol(batch), inputs=batch)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES)
def test_no_valid_token_gives_nan(student, dtype, mask_dtype):
    """An all-padding mask gives NaN (exp of 0/0), not 1 or 0 — and one valid token of log-prob -ln 3 gives 3."""
    token_logps = torch.tensor([[-1.0, -2.0], [-3.0, -4.0]], dtype=dtype)
    mask = torch.zeros(2, 2, dtype=mask_dtype)
    assert_close(student.perplexity(token_logps, mask), torch.tensor(float("nan"), dtype=dtype),
                 what="the perplexity of an empty mask", inputs={"token_logps": token_logps, "mask": mask})
    token_logps = torch.tensor([[-math.log(3.0), -9.0]], dtype=dtype)
    mask = torch.tensor([[1, 0]]).to(mask_dtype)
    assert_close(student.perplexity(token_logps, mask), torch.tensor(3.0, dtype=dtype),
                 what="the perplexity of one valid token of probability 1/3",
                 inputs={"token_logps": token_logps, "mask": mask})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=token_logp_batches(dtype=torch.float32, mask_dtype=torch.float64))
def test_float64_mask_keeps_float32(student, batch):
    """float32 log-probs with a float64 mask give a float32 perplexity (the mask never promotes the result)."""
    assert_close(student.perplexity(**batch), ref.perplexity(**batch), rtol=ppl_rtol(batch), inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(dtype=float_dtypes(), vocab=st.integers(2, 50000), data=st.data())
def test_uniform_model_gives_V(student, dtype, vocab, data):
    """A model uniform over V tokens (every log-prob -ln V) has perplexity exactly V."""
    mask = data.draw(response_masks(3, 4, min_valid=1))
    token_logps = torch.full((3, 4), -math.log(vocab), dtype=dtype)
    assert_close(student.perplexity(token_logps, mask), torch.tensor(float(vocab), dtype=dtype),
                 what=f"the perplexity of a uniform model over V = {vocab}", inputs={"token_logps": token_logps, "mask": mask})


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES)
def test_averages_over_tokens_not_sequences(student, dtype, mask_dtype):
    """One token of probability 1/2 and three of 1/8 give 2^2.5 (a token mean), not (2 + 8)/2 or 2^2 (sequence means)."""
    ln2 = math.log(2.0)
    token_logps = torch.tensor([[-ln2, -5.0, 7.0], [-3 * ln2, -3 * ln2, -3 * ln2]], dtype=dtype)
    mask = torch.tensor([[1, 0, 0], [1, 1, 1]]).to(mask_dtype)
    assert_close(student.perplexity(token_logps, mask), torch.tensor(2 ** 2.5, dtype=dtype),
                 what="the perplexity of rows with 1 and 3 valid tokens",
                 inputs={"token_logps": token_logps, "mask": mask})


@pytest.mark.points(2)
@settings(max_examples=15)
@given(batch=token_logp_batches(low=-80.0, junk=1e4))
def test_unlikely_tokens_and_huge_padding_values(student, batch):
    """Log-probs down to -80 and padding values up to ±1e4 give a finite, accurate perplexity (no product of probabilities)."""
    got = student.perplexity(**batch)
    expected = ref.perplexity(**batch)
    assert_finite_where_expected(got, expected, "the perplexity", batch,
                                 "Average the log-probs over the valid tokens, then exponentiate once: a product "
                                 "of probabilities underflows, and padded values must never reach exp().")
    assert_close(got, expected, rtol=ppl_rtol(batch), inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=token_logp_batches())
def test_does_not_modify_inputs(student, batch):
    """perplexity leaves its inputs unchanged (and returns the right value)."""
    result = student.call("perplexity", **batch)
    assert not result.mutated, f"perplexity modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.perplexity(**batch), rtol=ppl_rtol(batch), inputs=batch)
