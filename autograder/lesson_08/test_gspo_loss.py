"""Hidden tests for ``gspo_loss``: PPO's clip on the length-normalised sequence ratio, a mean over non-empty rows."""

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from autograder.lesson_08.preference_strategies import largest_abs, rounding_atol
from autograder.lesson_08.strategies import away_from_kinks, largest, policy_batches, scaled_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("gspo_loss")
EPS = st.sampled_from([3e-4, 1e-3, 0.05, 0.2])
MASK_DTYPES = st.sampled_from([torch.bool, torch.float32, torch.float64])


def gspo_batches(max_shifts=(2.0 ** -13, 2.0 ** -7, 2.0), **kwargs):
    """Sequence-advantage batches whose log-ratios are tiny (s inside the clip band), moderate or large."""
    return st.sampled_from(max_shifts).flatmap(
        lambda shift: policy_batches(advantages="sequence", max_shift=shift, **kwargs))


def sequence_ratios(batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """(s_b, has a valid token) in float64, computed independently of the reference."""
    m = batch["mask"].to(torch.float64)
    lengths = m.sum(dim=1)
    log_ratio = ((batch["logp"].double() - batch["logp_old"].double()) * m).sum(dim=1) / lengths.clamp(min=1)
    return log_ratio.exp(), lengths > 0


def loss_atol(batch: dict) -> float:
    """Rounding room: each term s_b A_b moves by |s_b A_b| per unit of error in its mean log-ratio."""
    s, valid = sequence_ratios(batch)
    gain = largest(s * batch["advantages"].double(), valid)
    seq = batch["logp"].shape[1]
    return max(scaled_atol(batch["logp"].dtype, gain),
               rounding_atol(batch["logp"].dtype, seq * largest_abs(batch["logp"], batch["logp_old"]), gain))


@pytest.mark.points(3)
@given(batch=gspo_batches(min_valid=0), eps=EPS)
def test_matches_reference(student, batch, eps):
    """The loss matches on random padded batches (float32/float64, bool/float masks, several eps, empty rows)."""
    got = student.gspo_loss(**batch, eps=eps)
    expected = ref.gspo_loss(**batch, eps=eps)
    assert_close(got, expected, atol=loss_atol(batch), inputs={**batch, "eps": eps})


@pytest.mark.points(2)
@given(batch=gspo_batches(), eps=EPS)
def test_gradient_matches_reference(student, batch, eps):
    """The gradient w.r.t. logp matches: shared by a row's valid tokens, 0 on clipped rows, padding and empty rows."""
    s, valid = sequence_ratios(batch)
    assume(away_from_kinks(s, valid, [1 - eps, 1 + eps], margin=eps / 10))
    kwargs = {**batch, "eps": eps}
    got = student.grad("gspo_loss", (), kwargs, wrt=["logp"])
    _, expected = reference_grad(ref.gspo_loss, (), kwargs, wrt=["logp"])
    assert_close(got.grads, expected, what="d loss / d logp", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=policy_batches(advantages="sequence"), eps=EPS)
def test_on_policy_is_minus_mean_advantage(student, batch, eps):
    """With logp == logp_old every s_b is 1 and the loss is minus the mean advantage of the non-empty rows."""
    batch = {**batch, "logp_old": batch["logp"].clone()}
    valid = batch["mask"].to(torch.float64).sum(dim=1) > 0
    expected = -batch["advantages"].double()[valid].mean()
    dtype = batch["logp"].dtype
    got = student.gspo_loss(**batch, eps=eps)
    assert_close(got, expected.to(dtype), what="the on-policy loss", atol=scaled_atol(dtype, 5.0),
                 inputs={**batch, "eps": eps})


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES)
def test_empty_rows_are_skipped(student, dtype, mask_dtype):
    """Rows without a valid token are left out of the mean over sequences; an all-padding batch gives NaN."""
    logp = torch.tensor([[-1.0, -2.0, -3.0], [-1.0, -1.0, -1.0], [-0.5, -4.0, -2.0]], dtype=dtype)
    batch = {"logp": logp, "logp_old": logp.clone(), "advantages": torch.tensor([1.0, 4.0, 2.0], dtype=dtype),
             "mask": torch.tensor([[1, 1, 0], [0, 0, 0], [1, 0, 0]]).to(mask_dtype)}
    assert_close(student.gspo_loss(**batch), torch.tensor(-1.5, dtype=dtype),
                 what="the loss with an empty middle row (mean of -1 and -2 over the 2 non-empty rows)", inputs=batch)
    empty = {**batch, "mask": torch.zeros(3, 3).to(mask_dtype)}
    assert_close(student.gspo_loss(**empty), torch.tensor(float("nan"), dtype=dtype),
                 what="the loss of a batch without any valid token", inputs=empty)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES)
def test_empty_rows_get_zero_gradient(student, dtype, mask_dtype):
    """The gradient is 0 (not NaN) at padded positions and on a row without any valid token."""
    logp = torch.tensor([[-1.0, -2.0, -3.0], [-1.0, -1.0, -1.0]], dtype=dtype)
    batch = {"logp": logp, "logp_old": logp - 1e-5, "advantages": torch.tensor([1.0, -2.0], dtype=dtype),
             "mask": torch.tensor([[1, 1, 0], [0, 0, 0]]).to(mask_dtype), "eps": 0.2}
    got = student.grad("gspo_loss", (), batch, wrt=["logp"])
    _, expected = reference_grad(ref.gspo_loss, (), batch, wrt=["logp"])
    assert_close(got.grads, expected, what="d loss / d logp", inputs=batch)


@pytest.mark.points(1)
@given(batch=gspo_batches(min_valid=0), eps=EPS, data=st.data())
def test_padding_values_do_not_matter(student, batch, eps, data):
    """Changing logp and logp_old at padded positions does not change the loss (still the right loss)."""
    pad = ~batch["mask"].bool()
    shape, dtype = tuple(batch["logp"].shape), batch["logp"].dtype
    new_logp = batch["logp"] + data.draw(tensors(shape, dtype))
    shift = data.draw(tensors(shape, dtype))  # new padding log-ratio within ±10
    other = {**batch, "logp": torch.where(pad, new_logp, batch["logp"]),
             "logp_old": torch.where(pad, new_logp + shift, batch["logp_old"])}
    assert_close(student.gspo_loss(**other, eps=eps), ref.gspo_loss(**batch, eps=eps), atol=loss_atol(batch),
                 what="the loss with other padding values", inputs={**other, "eps": eps})


@pytest.mark.points(1)
@given(batch=gspo_batches(dtype=torch.float32, mask_dtype=torch.float64, min_valid=0), eps=EPS)
def test_result_dtype_follows_logp_not_mask(student, batch, eps):
    """float32 log-probs with a float64 mask still give a float32 loss (the mask must not promote it)."""
    expected = ref.gspo_loss(**batch, eps=eps)
    assert_close(student.gspo_loss(**batch, eps=eps), expected, atol=loss_atol(batch), inputs={**batch, "eps": eps})


@pytest.mark.points(2)
@given(batch=gspo_batches(max_shifts=(2.0 ** -7, 2.0, 20.0), min_valid=0, offset=-1e4), eps=EPS)
def test_large_logprobs_are_stable(student, batch, eps):
    """Log-probs near -1e4 (log-ratios within ±20) give a finite, accurate loss: never exp() a log-prob alone."""
    got = student.gspo_loss(**batch, eps=eps)
    expected = ref.gspo_loss(**batch, eps=eps)
    assert_close(got, expected, atol=loss_atol(batch), inputs={**batch, "eps": eps})


@pytest.mark.points(1)
@given(batch=gspo_batches(min_valid=0))
def test_does_not_modify_inputs(student, batch):
    """gspo_loss leaves its input tensors unchanged (and returns the right loss)."""
    result = student.call("gspo_loss", **batch)
    assert not result.mutated, f"gspo_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.gspo_loss(**batch), atol=loss_atol(batch), inputs=batch)
