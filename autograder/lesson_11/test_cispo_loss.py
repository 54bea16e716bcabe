"""Hidden tests for ``cispo_loss``: token mean of -sg(min(r, 1 + eps_high)) * A * logp."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_11.strategies import cispo_atol, cispo_batches
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("cispo_loss")
EPS_HIGH = st.sampled_from([0.1, 0.2, 0.28, 1.0])
MASK_DTYPES = st.sampled_from([torch.bool, torch.float32, torch.float64])


@pytest.mark.points(3)
@given(batch=cispo_batches(min_valid=0), eps_high=EPS_HIGH)
def test_matches_reference(student, batch, eps_high):
    """The loss matches on random padded batches with empty rows (float32/float64, bool/float masks, eps_high)."""
    kwargs = {**batch, "eps_high": eps_high}
    assert_close(student.cispo_loss(**kwargs), ref.cispo_loss(**kwargs), atol=cispo_atol(batch, eps_high),
                 inputs=kwargs)


@pytest.mark.points(3)
@given(batch=cispo_batches(), eps_high=EPS_HIGH)
def test_gradient_matches_reference(student, batch, eps_high):
    """The gradient w.r.t. logp matches: the clipped weight is a constant (detached), 0 on padding."""
    kwargs = {**batch, "eps_high": eps_high}
    got = student.grad("cispo_loss", (), kwargs, wrt=["logp"])
    _, expected = reference_grad(ref.cispo_loss, (), kwargs, wrt=["logp"])
    assert_close(got.grads, expected, what="d loss / d logp (is the weight detached?)", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES, eps_high=EPS_HIGH, data=st.data())
def test_clipped_tokens_keep_their_gradient(student, dtype, mask_dtype, eps_high, data):
    """Tokens whose ratio is far above 1 + eps_high still get gradient -(1 + eps_high) A / N (PPO would give 0)."""
    batch, seq = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4))
    logp = data.draw(tensors((batch, seq), dtype, floats(-8.0, -0.5)))
    log_ratio = data.draw(tensors((batch, seq), dtype, st.sampled_from([1.0, 2.0, 3.0])))  # r >= e > 1 + eps_high
    advantages = data.draw(tensors((batch,), dtype, st.sampled_from([-2.0, -0.5, 1.0, 3.0])))
    mask = torch.ones(batch, seq, dtype=mask_dtype)
    kwargs = {"logp": logp, "logp_old": logp - log_ratio, "advantages": advantages, "mask": mask,
              "eps_high": eps_high}
    got = student.grad("cispo_loss", (), kwargs, wrt=["logp"])
    expected = (-(1 + eps_high) * advantages.double()[:, None] / (batch * seq)).expand(batch, seq).to(dtype)
    assert_close(got.grads, (expected,), what="d loss / d logp for tokens with r > 1 + eps_high", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=cispo_batches(), eps_high=EPS_HIGH)
def test_on_policy_is_plain_reinforce(student, batch, eps_high):
    """With logp == logp_old every weight is 1: the loss is the token mean of -A * logp."""
    kwargs = {**batch, "logp_old": batch["logp"].clone(), "eps_high": eps_high}
    m = batch["mask"].to(torch.float64)
    per_token = -batch["advantages"].double()[:, None] * batch["logp"].double()
    expected = ((per_token * m).sum() / m.sum()).to(batch["logp"].dtype)
    assert_close(student.cispo_loss(**kwargs), expected, atol=cispo_atol(kwargs, eps_high),
                 what="the on-policy loss (every weight 1)", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES, data=st.data())
def test_empty_mask_gives_nan(student, dtype, mask_dtype, data):
    """A mask without any valid token gives NaN (0/0, the token mean of nothing), not 0."""
    shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)))
    logp = data.draw(tensors(shape, dtype, floats(-10.0, 0.0)))
    kwargs = {"logp": logp, "logp_old": logp - 0.5, "advantages": torch.ones(shape[0], dtype=dtype),
              "mask": torch.zeros(shape, dtype=mask_dtype)}
    assert_close(student.cispo_loss(**kwargs), torch.tensor(math.nan, dtype=dtype), what="the loss of an empty batch",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=cispo_batches(min_valid=0, offset=-1e4), eps_high=EPS_HIGH)
def test_large_logprobs_are_stable(student, batch, eps_high):
    """Log-probs near -1e4 (log-ratios unchanged) give finite, accurate losses: form r from logp - logp_old."""
    kwargs = {**batch, "eps_high": eps_high}
    assert_close(student.cispo_loss(**kwargs), ref.cispo_loss(**kwargs), atol=cispo_atol(batch, eps_high),
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=cispo_batches(dtype=torch.float32, mask_dtype=torch.float64, min_valid=0), eps_high=EPS_HIGH)
def test_result_dtype_follows_logp_not_mask(student, batch, eps_high):
    """float32 log-probs with a float64 mask still give a float32 loss (the mask must not promote it)."""
    kwargs = {**batch, "eps_high": eps_high}
    assert_close(student.cispo_loss(**kwargs), ref.cispo_loss(**kwargs), atol=cispo_atol(batch, eps_high),
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=cispo_batches(min_valid=0), data=st.data())
def test_padding_values_do_not_matter(student, batch, data):
    """Other values of logp and logp_old at padded positions give the same (right) loss."""
    pad = ~batch["mask"].bool()
    shape, dtype = tuple(batch["logp"].shape), batch["logp"].dtype
    new_logp = batch["logp"] + data.draw(tensors(shape, dtype))
    other = {**batch, "logp": torch.where(pad, new_logp, batch["logp"]),
             "logp_old": torch.where(pad, new_logp + data.draw(tensors(shape, dtype)), batch["logp_old"])}
    assert_close(student.cispo_loss(**other), ref.cispo_loss(**batch), atol=cispo_atol(batch, 0.28),
                 what="the loss with other padding values", inputs=other)


@pytest.mark.points(1)
@given(batch=cispo_batches(min_valid=0))
def test_does_not_modify_inputs(student, batch):
    """cispo_loss leaves its input tensors unchanged (and returns the right loss with the default eps_high)."""
    result = student.call("cispo_loss", **batch)
    assert not result.mutated, f"cispo_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.cispo_loss(**batch), atol=cispo_atol(batch, 0.28), inputs=batch)
