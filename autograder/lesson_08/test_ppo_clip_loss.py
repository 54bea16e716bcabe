"""Hidden tests for ``ppo_clip_loss``: PPO's clipped surrogate, a token mean over the batch, and the clip fraction."""

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from autograder.lesson_08.strategies import away_from_kinks, largest, policy_batches, scaled_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("ppo_clip_loss")
CLIP_EPS = st.sampled_from([0.1, 0.2, 0.3])


def loss_atol(batch: dict) -> float:
    """Rounding room for a mean of the per-token terms r * A (largest valid one sets the scale)."""
    ratio = torch.exp(batch["logp"].double() - batch["logp_old"].double())
    return scaled_atol(batch["logp"].dtype, largest(ratio * batch["advantages"].double(), batch["mask"]))


@pytest.mark.points(3)
@given(batch=policy_batches(min_valid=0), clip_eps=CLIP_EPS)
def test_matches_reference(student, batch, clip_eps):
    """Loss and clip fraction match on random padded batches (float32/float64, bool/float masks, several eps)."""
    got = student.ppo_clip_loss(**batch, clip_eps=clip_eps)
    expected = ref.ppo_clip_loss(**batch, clip_eps=clip_eps)
    assert_close(got, expected, atol=loss_atol(batch), inputs={**batch, "clip_eps": clip_eps})


@pytest.mark.points(2)
@given(batch=policy_batches(), clip_eps=CLIP_EPS)
def test_gradient_matches_reference(student, batch, clip_eps):
    """The gradient of the loss w.r.t. logp matches (0 where the clip flattens the objective and on padding)."""
    ratio = torch.exp(batch["logp"].double() - batch["logp_old"].double())
    assume(away_from_kinks(ratio, batch["mask"], [1 - clip_eps, 1 + clip_eps]))
    kwargs = {**batch, "clip_eps": clip_eps}
    got = student.grad("ppo_clip_loss", (), kwargs, wrt=["logp"], output=0)
    _, expected = reference_grad(ref.ppo_clip_loss, (), kwargs, wrt=["logp"], output=0)
    assert_close(got.grads, expected, what="d loss / d logp", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=policy_batches(), clip_eps=CLIP_EPS)
def test_on_policy_is_minus_mean_advantage(student, batch, clip_eps):
    """With logp == logp_old the loss is minus the masked mean advantage and nothing is clipped."""
    batch = {**batch, "logp_old": batch["logp"].clone()}
    loss, clip_fraction = student.ppo_clip_loss(**batch, clip_eps=clip_eps)
    m = batch["mask"].to(torch.float64)
    expected = -(batch["advantages"].double() * m).sum() / m.sum()
    dtype = batch["logp"].dtype
    atol = scaled_atol(dtype, largest(batch["advantages"], batch["mask"]))
    assert_close(loss, expected.to(dtype), what="the on-policy loss", atol=atol, inputs=batch)
    assert_close(clip_fraction, torch.zeros((), dtype=dtype), what="the on-policy clip fraction", inputs=batch)


@pytest.mark.points(1)
@given(batch=policy_batches(min_valid=0), data=st.data())
def test_padding_values_do_not_matter(student, batch, data):
    """Other logp, logp_old and advantages at padded positions give the same (right) loss and clip fraction."""
    pad = ~batch["mask"].bool()
    shape, dtype = tuple(batch["logp"].shape), batch["logp"].dtype
    other = dict(batch)
    new_logp = batch["logp"] + data.draw(tensors(shape, dtype))
    shift = data.draw(tensors(shape, dtype))  # new padding log-ratio within ±10
    other["logp"] = torch.where(pad, new_logp, batch["logp"])
    other["logp_old"] = torch.where(pad, new_logp + shift, batch["logp_old"])
    other["advantages"] = torch.where(pad, data.draw(tensors(shape, dtype)), batch["advantages"])
    assert_close(student.ppo_clip_loss(**other), ref.ppo_clip_loss(**batch), atol=loss_atol(batch),
                 what="the result with other padding values", inputs=other)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=st.sampled_from([torch.bool, torch.float32, torch.float64]))
def test_empty_mask_gives_nan(student, dtype, mask_dtype):
    """A mask without any valid token gives NaN (0/0) for both the loss and the clip fraction."""
    logp = torch.full((2, 3), -1.0, dtype=dtype)
    batch = {"logp": logp, "logp_old": logp - 0.5, "advantages": torch.ones(2, 3, dtype=dtype),
             "mask": torch.zeros(2, 3, dtype=mask_dtype)}
    nan = torch.tensor(float("nan"), dtype=dtype)
    assert_close(student.ppo_clip_loss(**batch), (nan, nan), what="(loss, clip_fraction) on an empty mask",
                 inputs=batch)


@pytest.mark.points(1)
@given(batch=policy_batches(dtype=torch.float32, mask_dtype=torch.float64, min_valid=0))
def test_result_dtype_follows_logp_not_mask(student, batch):
    """float32 log-probs with a float64 mask still give float32 results (the mask must not promote them)."""
    assert_close(student.ppo_clip_loss(**batch), ref.ppo_clip_loss(**batch), atol=loss_atol(batch), inputs=batch)


@pytest.mark.points(1)
@given(batch=policy_batches(min_valid=0, offset=-1e4), clip_eps=CLIP_EPS)
def test_large_logprobs_are_stable(student, batch, clip_eps):
    """Log-probs near -1e4 (log-ratios unchanged) give finite, accurate results: use exp(logp - logp_old)."""
    got = student.ppo_clip_loss(**batch, clip_eps=clip_eps)
    expected = ref.ppo_clip_loss(**batch, clip_eps=clip_eps)
    assert_close(got, expected, atol=loss_atol(batch), inputs={**batch, "clip_eps": clip_eps})


@pytest.mark.points(1)
@given(batch=policy_batches(min_valid=0))
def test_does_not_modify_inputs(student, batch):
    """ppo_clip_loss leaves its input tensors unchanged (and returns the right loss and clip fraction)."""
    result = student.call("ppo_clip_loss", **batch)
    assert not result.mutated, f"ppo_clip_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.ppo_clip_loss(**batch), atol=loss_atol(batch), inputs=batch)
