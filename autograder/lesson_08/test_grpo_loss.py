"""Hidden tests for ``grpo_loss``: clip-higher surrogate with per-sequence advantages, minus beta * k3, aggregated."""

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from autograder.lesson_08.strategies import away_from_kinks, largest, policy_batches, scaled_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("grpo_loss")
MODES = st.sampled_from(["token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"])
CLIPS = st.sampled_from([(0.2, 0.2), (0.2, 0.28), (0.1, 0.3), (0.3, 0.1)])
BETAS = st.sampled_from([0.0, 0.04, 0.1, 1.0])
MAX_LENS = st.sampled_from([None, None, 8])


def grpo_batches(**kwargs):
    return policy_batches(ref=True, advantages="sequence", **kwargs)


def options(clips, beta, mode, max_len) -> dict:
    return {"eps_low": clips[0], "eps_high": clips[1], "beta": beta, "mode": mode, "max_len": max_len}


def loss_atol(batch: dict, beta: float) -> float:
    """Rounding room for an average of per-token terms r * A - beta * k3 (the largest valid one sets the scale)."""
    logp = batch["logp"].double()
    ratio = torch.exp(logp - batch["logp_old"].double())
    delta = batch["logp_ref"].double() - logp
    terms = ratio * batch["advantages"].double()[:, None].abs() + beta * (torch.exp(delta) - 1 - delta)
    return scaled_atol(batch["logp"].dtype, largest(terms, batch["mask"]))


@pytest.mark.points(3)
@given(batch=grpo_batches(min_valid=0), clips=CLIPS, beta=BETAS, mode=MODES, max_len=MAX_LENS)
def test_matches_reference(student, batch, clips, beta, mode, max_len):
    """The loss matches for every mode, eps_low != eps_high, several beta (float32/float64, bool/float masks)."""
    kwargs = {**batch, **options(clips, beta, mode, max_len)}
    assert_close(student.grpo_loss(**kwargs), ref.grpo_loss(**kwargs), atol=loss_atol(batch, beta), inputs=kwargs)


@pytest.mark.points(2)
@given(batch=grpo_batches(), clips=CLIPS, beta=BETAS, mode=MODES, max_len=MAX_LENS)
def test_gradient_matches_reference(student, batch, clips, beta, mode, max_len):
    """The gradient w.r.t. logp matches (0, never NaN, on padding and on empty rows)."""
    ratio = torch.exp(batch["logp"].double() - batch["logp_old"].double())
    assume(away_from_kinks(ratio, batch["mask"], [1 - clips[0], 1 + clips[1]]))
    kwargs = {**batch, **options(clips, beta, mode, max_len)}
    got = student.grad("grpo_loss", (), kwargs, wrt=["logp"])
    _, expected = reference_grad(ref.grpo_loss, (), kwargs, wrt=["logp"])
    assert_close(got.grads, expected, what="d loss / d logp", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=st.sampled_from([torch.bool, torch.float32, torch.float64]),
       beta=BETAS, mode=MODES)
def test_empty_row_gets_zero_gradient(student, dtype, mask_dtype, beta, mode):
    """With an empty row in the batch the loss is finite and its gradient is exactly 0 there and on padding."""
    logp = torch.tensor([[-1.0, -2.0, -0.5], [-3.0, -1.0, -2.0], [-0.5, -0.5, -4.0]], dtype=dtype)
    kwargs = {"logp": logp, "logp_old": logp - 0.05, "logp_ref": logp + 0.5,
              "advantages": torch.tensor([1.0, -2.0, -0.5], dtype=dtype),
              "mask": torch.tensor([[1, 1, 0], [0, 0, 0], [1, 1, 1]]).to(mask_dtype), "beta": beta, "mode": mode}
    got = student.grad("grpo_loss", (), kwargs, wrt=["logp"])
    _, expected = reference_grad(ref.grpo_loss, (), kwargs, wrt=["logp"])
    assert_close(got.grads, expected, what="d loss / d logp with an empty row", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=grpo_batches(), clips=CLIPS, mode=MODES, max_len=MAX_LENS)
def test_on_policy_without_kl_is_minus_aggregated_advantage(student, batch, clips, mode, max_len):
    """With logp == logp_old and beta = 0 every token's loss is -A_b, aggregated as the mode says."""
    batch = {**batch, "logp_old": batch["logp"].clone()}
    m = batch["mask"].to(torch.float64)
    per_token = -batch["advantages"].double()[:, None] * m
    lengths = m.sum(dim=1)
    if mode == "token_mean":
        expected = per_token.sum() / m.sum()
    elif mode == "seq_mean_token_mean":
        keep = lengths > 0
        expected = (per_token.sum(dim=1)[keep] / lengths[keep]).mean()
    else:
        expected = per_token.sum() / (m.shape[0] * (max_len or m.shape[1]))
    kwargs = {**batch, **options(clips, 0.0, mode, max_len)}
    dtype = batch["logp"].dtype
    assert_close(student.grpo_loss(**kwargs), expected.to(dtype), what="the on-policy loss with beta = 0",
                 atol=scaled_atol(dtype, largest(batch["advantages"])), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=grpo_batches(), beta=st.sampled_from([0.04, 0.1, 1.0]))
def test_kl_term_alone_is_k3(student, batch, beta):
    """With zero advantages the loss is beta * token mean of k3 = exp(ref - logp) - 1 - (ref - logp), which is >= 0."""
    batch = {**batch, "advantages": torch.zeros_like(batch["advantages"])}
    m = batch["mask"].to(torch.float64)
    delta = batch["logp_ref"].double() - batch["logp"].double()
    k3 = torch.exp(delta) - 1 - delta
    expected = beta * (k3 * m).sum() / m.sum()
    kwargs = {**batch, "beta": beta, "mode": "token_mean"}
    dtype = batch["logp"].dtype
    assert_close(student.grpo_loss(**kwargs), expected.to(dtype), what="the loss with A = 0 (the k3 penalty)",
                 atol=loss_atol(batch, beta), inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), clips=st.sampled_from([(0.2, 0.28), (0.1, 0.3), (0.3, 0.1)]))
def test_clip_higher_is_asymmetric(student, dtype, clips):
    """r = 1.5 with A = +1 is capped at 1 + eps_high, r = 0.5 with A = -2 at 1 - eps_low."""
    eps_low, eps_high = clips
    logp = torch.log(torch.tensor([[1.5], [0.5]], dtype=dtype))
    zeros = torch.zeros(2, 1, dtype=dtype)
    kwargs = {"logp": logp, "logp_old": zeros, "logp_ref": logp, "advantages": torch.tensor([1.0, -2.0], dtype=dtype),
              "mask": torch.ones(2, 1, dtype=torch.bool), "eps_low": eps_low, "eps_high": eps_high,
              "mode": "token_mean"}
    expected = torch.tensor((-(1 + eps_high) + 2 * (1 - eps_low)) / 2, dtype=dtype)
    assert_close(student.grpo_loss(**kwargs), expected, what="the clipped loss", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=grpo_batches(min_valid=0, offset=-1e4), clips=CLIPS, beta=BETAS, mode=MODES)
def test_large_logprobs_are_stable(student, batch, clips, beta, mode):
    """Log-probs near -1e4 (log-ratios unchanged) give finite, accurate losses: work with log-ratios."""
    kwargs = {**batch, **options(clips, beta, mode, None)}
    assert_close(student.grpo_loss(**kwargs), ref.grpo_loss(**kwargs), atol=loss_atol(batch, beta), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=grpo_batches(dtype=torch.float32, mask_dtype=torch.float64, min_valid=0), beta=BETAS, mode=MODES)
def test_result_dtype_follows_logp_not_mask(student, batch, beta, mode):
    """float32 log-probs with a float64 mask still give a float32 loss (the mask must not promote it)."""
    kwargs = {**batch, "beta": beta, "mode": mode}
    assert_close(student.grpo_loss(**kwargs), ref.grpo_loss(**kwargs), atol=loss_atol(batch, beta), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=grpo_batches(min_valid=0), beta=BETAS, mode=MODES, data=st.data())
def test_padding_values_do_not_matter(student, batch, beta, mode, data):
    """Other values of logp, logp_old and logp_ref at padded positions give the same (right) loss."""
    pad = ~batch["mask"].bool()
    shape, dtype = tuple(batch["logp"].shape), batch["logp"].dtype
    new_logp = batch["logp"] + data.draw(tensors(shape, dtype))
    other = {**batch, "logp": torch.where(pad, new_logp, batch["logp"]),
             "logp_old": torch.where(pad, new_logp + data.draw(tensors(shape, dtype)), batch["logp_old"]),
             "logp_ref": torch.where(pad, new_logp + data.draw(tensors(shape, dtype)), batch["logp_ref"])}
    kwargs = {"beta": beta, "mode": mode}
    assert_close(student.grpo_loss(**other, **kwargs), ref.grpo_loss(**batch, **kwargs),
                 atol=loss_atol(batch, beta), what="the loss with other padding values", inputs={**other, **kwargs})


@pytest.mark.points(1)
@given(batch=grpo_batches(min_valid=0), beta=BETAS)
def test_does_not_modify_inputs(student, batch, beta):
    """grpo_loss leaves its input tensors unchanged (and returns the right loss)."""
    result = student.call("grpo_loss", **batch, beta=beta)
    assert not result.mutated, f"grpo_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.grpo_loss(**batch, beta=beta), atol=loss_atol(batch, beta), inputs=batch)

