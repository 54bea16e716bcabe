"""Hidden tests for ``sapo_loss``: a sigmoid gate 4/tau * sigmoid(tau (r - 1)) per token, seq-mean-token-mean."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_08.preference_strategies import largest_abs, rounding_atol
from autograder.lesson_08.strategies import policy_batches, scaled_atol
from rlgrade.testing import assert_close, reference_for, reference_grad
from rlgrade.testing.strategies import float_dtypes, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("sapo_loss")
TAUS = st.sampled_from([(1.0, 1.05), (0.5, 2.0), (3.0, 1.0), (1.0, 1.0)])
MASK_DTYPES = st.sampled_from([torch.bool, torch.float32, torch.float64])


def sapo_batches(max_shifts=(0.25, 2.0), **kwargs):
    """Sequence-advantage batches with log-ratios near 0 (gate near its centre) or far from it."""
    return st.sampled_from(max_shifts).flatmap(
        lambda shift: policy_batches(advantages="sequence", max_shift=shift, **kwargs))


def loss_atol(batch: dict, taus: tuple[float, float]) -> float:
    """Rounding room: per-token terms are at most 4/tau |A|; one moves by 4 r sigma'(tau (r - 1)) |A| <= 2.4 |A|
    (tau >= 0.5) per unit of error in its log-ratio."""
    dtype, adv = batch["logp"].dtype, largest_abs(batch["advantages"])
    magnitude = largest_abs(batch["logp"], batch["logp_old"])
    return max(scaled_atol(dtype, 4.0 / min(taus) * adv), rounding_atol(dtype, magnitude, 4.0 * adv))


def kwargs_of(batch: dict, taus: tuple[float, float]) -> dict:
    return {**batch, "tau_pos": taus[0], "tau_neg": taus[1]}


@pytest.mark.points(3)
@given(batch=sapo_batches(min_valid=0), taus=TAUS)
def test_matches_reference(student, batch, taus):
    """The loss matches on random padded batches (float32/float64, bool/float masks, several temperatures)."""
    kwargs = kwargs_of(batch, taus)
    got = student.sapo_loss(**kwargs)
    assert_close(got, ref.sapo_loss(**kwargs), atol=loss_atol(batch, taus), inputs=kwargs)


@pytest.mark.points(2)
@given(batch=sapo_batches(), taus=TAUS)
def test_gradient_matches_reference(student, batch, taus):
    """The gradient w.r.t. logp matches (0 at padded positions and on rows without a valid token)."""
    kwargs = kwargs_of(batch, taus)
    got = student.grad("sapo_loss", (), kwargs, wrt=["logp"])
    _, expected = reference_grad(ref.sapo_loss, (), kwargs, wrt=["logp"])
    assert_close(got.grads, expected, what="d loss / d logp", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=policy_batches(advantages="sequence"), taus=TAUS)
def test_on_policy_value(student, batch, taus):
    """With logp == logp_old each token's loss is -2 A / tau (tau by the sign of A), averaged per sequence."""
    batch = {**batch, "logp_old": batch["logp"].clone()}
    kwargs = kwargs_of(batch, taus)
    adv = batch["advantages"].double()
    tau = torch.where(adv > 0, torch.full_like(adv, taus[0]), torch.full_like(adv, taus[1]))
    valid = batch["mask"].to(torch.float64).sum(dim=1) > 0
    expected = (-2.0 * adv / tau)[valid].mean().to(batch["logp"].dtype)
    assert_close(student.sapo_loss(**kwargs), expected, atol=loss_atol(batch, taus), what="the on-policy loss",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=policy_batches(advantages="sequence"), taus=TAUS)
def test_on_policy_gradient_is_the_policy_gradient(student, batch, taus):
    """With logp == logp_old the gradient is the plain policy gradient -A_b / (|y_b| * number of non-empty rows)."""
    batch = {**batch, "logp_old": batch["logp"].clone()}
    kwargs = kwargs_of(batch, taus)
    m = batch["mask"].to(torch.float64)
    lengths = m.sum(dim=1)
    n_rows = (lengths > 0).sum()
    expected = (-batch["advantages"].double()[:, None] * m / (lengths.clamp(min=1)[:, None] * n_rows))
    got = student.grad("sapo_loss", (), kwargs, wrt=["logp"])
    assert_close(got.grads, (expected.to(batch["logp"].dtype),), what="the on-policy d loss / d logp", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES)
def test_empty_rows(student, dtype, mask_dtype):
    """Rows without a valid token are skipped and get gradient 0 (not NaN); an all-padding batch gives NaN."""
    logp = torch.tensor([[-1.0, -2.0, -3.0], [-1.0, -1.0, -1.0], [-0.5, -4.0, -2.0]], dtype=dtype)
    batch = {"logp": logp, "logp_old": logp.clone(), "advantages": torch.tensor([1.0, 4.0, -1.0], dtype=dtype),
             "mask": torch.tensor([[1, 1, 0], [0, 0, 0], [1, 0, 0]]).to(mask_dtype), "tau_pos": 1.0, "tau_neg": 2.0}
    assert_close(student.sapo_loss(**batch), torch.tensor(-0.5, dtype=dtype),
                 what="the on-policy loss with an empty middle row (mean of -2 and +1 over 2 rows)", inputs=batch)
    got = student.grad("sapo_loss", (), batch, wrt=["logp"])
    _, expected = reference_grad(ref.sapo_loss, (), batch, wrt=["logp"])
    assert_close(got.grads, expected, what="d loss / d logp", inputs=batch)
    empty = {**batch, "mask": torch.zeros(3, 3).to(mask_dtype)}
    assert_close(student.sapo_loss(**empty), torch.tensor(float("nan"), dtype=dtype),
                 what="the loss of a batch without any valid token", inputs=empty)


@pytest.mark.points(1)
@given(batch=sapo_batches(min_valid=0), taus=TAUS, data=st.data())
def test_padding_values_do_not_matter(student, batch, taus, data):
    """Changing logp and logp_old at padded positions does not change the loss (still the right loss)."""
    pad = ~batch["mask"].bool()
    shape, dtype = tuple(batch["logp"].shape), batch["logp"].dtype
    new_logp = batch["logp"] + data.draw(tensors(shape, dtype))
    shift = data.draw(tensors(shape, dtype))  # new padding log-ratio within ±10
    other = {**batch, "logp": torch.where(pad, new_logp, batch["logp"]),
             "logp_old": torch.where(pad, new_logp + shift, batch["logp_old"])}
    assert_close(student.sapo_loss(**kwargs_of(other, taus)), ref.sapo_loss(**kwargs_of(batch, taus)),
                 atol=loss_atol(batch, taus), what="the loss with other padding values", inputs=kwargs_of(other, taus))


@pytest.mark.points(1)
@given(batch=sapo_batches(dtype=torch.float32, mask_dtype=torch.float64, min_valid=0), taus=TAUS)
def test_result_dtype_follows_logp_not_mask(student, batch, taus):
    """float32 log-probs with a float64 mask still give a float32 loss (the mask must not promote it)."""
    kwargs = kwargs_of(batch, taus)
    assert_close(student.sapo_loss(**kwargs), ref.sapo_loss(**kwargs), atol=loss_atol(batch, taus), inputs=kwargs)


@pytest.mark.points(2)
@given(batch=sapo_batches(max_shifts=(0.25, 20.0), min_valid=0, offset=-1e4), taus=TAUS)
def test_large_logprobs_are_stable(student, batch, taus):
    """Log-probs near -1e4 (log-ratios within ±20) give a finite, accurate loss: use exp(logp - logp_old)."""
    kwargs = kwargs_of(batch, taus)
    got = student.sapo_loss(**kwargs)
    assert_close(got, ref.sapo_loss(**kwargs), atol=loss_atol(batch, taus), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=sapo_batches(min_valid=0))
def test_does_not_modify_inputs(student, batch):
    """sapo_loss leaves its input tensors unchanged (and returns the right loss)."""
    result = student.call("sapo_loss", **batch)
    assert not result.mutated, f"sapo_loss modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.sapo_loss(**batch), atol=loss_atol(batch, (1.0, 1.05)), inputs=batch)
