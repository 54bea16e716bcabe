"""Hidden tests for ``kl_penalized_rewards``: -beta * log-ratio per valid token, plus the score on the last one."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_08.strategies import largest, policy_batches, scaled_atol
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("kl_penalized_rewards")
BETAS = st.sampled_from([0.0, 0.05, 0.1, 1.0])


def reward_batches(**kwargs):
    return policy_batches(old=False, ref=True, advantages=None, scores=True, min_valid=0, **kwargs)


def call_args(batch: dict, beta: float) -> dict:
    """The batch in the function's argument order (scores first), plus beta."""
    return {"scores": batch["scores"], "logp": batch["logp"], "logp_ref": batch["logp_ref"], "mask": batch["mask"],
            "beta": beta}


def rewards_atol(batch: dict, beta: float) -> float:
    """Rounding room: beta * (logp - logp_ref) may be formed as beta * logp - beta * logp_ref."""
    magnitude = max(beta * largest(batch["logp"]), beta * largest(batch["logp_ref"]), largest(batch["scores"]))
    return scaled_atol(batch["logp"].dtype, magnitude)


@pytest.mark.points(3)
@given(batch=reward_batches(), beta=BETAS)
def test_matches_reference(student, batch, beta):
    """Per-token rewards match on random padded batches with empty rows (float32/float64, bool/float masks)."""
    args = call_args(batch, beta)
    assert_close(student.kl_penalized_rewards(**args), ref.kl_penalized_rewards(**args),
                 atol=rewards_atol(batch, beta), inputs=args)


@pytest.mark.points(1)
@given(batch=reward_batches(), beta=BETAS)
def test_row_sums(student, batch, beta):
    """Each row sums to score - beta * sum of its valid log-ratios; a row with no valid token sums to 0."""
    args = call_args(batch, beta)
    got = student.kl_penalized_rewards(**args)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(batch["logp"].shape), (
        f"expected a tensor of shape {tuple(batch['logp'].shape)}, got {got!r}")
    m = batch["mask"].to(torch.float64)
    log_ratio = batch["logp"].double() - batch["logp_ref"].double()
    nonempty = m.sum(dim=1) > 0
    expected = torch.where(nonempty, batch["scores"].double() - beta * (log_ratio * m).sum(dim=1), 0.0)
    atol = rewards_atol(batch, beta) * (1 + batch["logp"].shape[1])
    assert_close(got.double().sum(dim=1), expected, what="the row sums of the rewards", atol=atol, rtol=1e-4,
                 inputs=args)


@pytest.mark.points(1)
@given(batch=reward_batches())
def test_score_on_last_valid_token(student, batch):
    """With beta = 0 each row holds its score at its last valid token and 0 everywhere else."""
    args = call_args(batch, 0.0)
    lengths = batch["mask"].to(torch.int64).sum(dim=1)
    expected = torch.zeros_like(batch["logp"])
    for b, n in enumerate(lengths.tolist()):
        if n > 0:
            expected[b, n - 1] = batch["scores"][b]
    assert_close(student.kl_penalized_rewards(**args), expected, what="the rewards with beta = 0", inputs=args)


@pytest.mark.points(1)
@given(batch=reward_batches(), beta=BETAS)
def test_zero_at_padding_and_empty_rows(student, batch, beta):
    """Padded positions hold exactly 0 (a row with no valid token is all 0) and valid ones the right rewards."""
    args = call_args(batch, beta)
    got = student.kl_penalized_rewards(**args)
    pad = ~batch["mask"].bool()
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(pad.shape), (
        f"expected a tensor of shape {tuple(pad.shape)}, got {got!r}")
    assert_close(got[pad], torch.zeros(int(pad.sum()), dtype=got.dtype), what="the rewards at padded positions",
                 rtol=0.0, atol=0.0, inputs=args, check_dtype=False)
    assert_close(got, ref.kl_penalized_rewards(**args), atol=rewards_atol(batch, beta), inputs=args)


@pytest.mark.points(1)
@given(batch=reward_batches(), beta=BETAS, data=st.data())
def test_padding_values_do_not_matter(student, batch, beta, data):
    """Other values of logp and logp_ref at padded positions give the same (right) rewards."""
    pad = ~batch["mask"].bool()
    shape, dtype = tuple(batch["logp"].shape), batch["logp"].dtype
    new_logp = batch["logp"] + data.draw(tensors(shape, dtype))
    other = {**batch, "logp": torch.where(pad, new_logp, batch["logp"]),
             "logp_ref": torch.where(pad, new_logp + data.draw(tensors(shape, dtype)), batch["logp_ref"])}
    assert_close(student.kl_penalized_rewards(**call_args(other, beta)),
                 ref.kl_penalized_rewards(**call_args(batch, beta)), atol=rewards_atol(batch, beta),
                 what="the rewards with other padding values", inputs=call_args(other, beta))


@pytest.mark.points(1)
@given(batch=reward_batches(dtype=torch.float32, mask_dtype=torch.float64), beta=BETAS)
def test_result_dtype_follows_logp_not_mask(student, batch, beta):
    """float32 inputs with a float64 mask still give float32 rewards (the mask must not promote them)."""
    args = call_args(batch, beta)
    assert_close(student.kl_penalized_rewards(**args), ref.kl_penalized_rewards(**args),
                 atol=rewards_atol(batch, beta), inputs=args)


@pytest.mark.points(1)
@given(batch=reward_batches(offset=-1e4, max_shift=20.0), beta=BETAS)
def test_large_logprobs(student, batch, beta):
    """Log-probs near -1e4 with log-ratios up to ±20 give finite, accurate rewards."""
    args = call_args(batch, beta)
    assert_close(student.kl_penalized_rewards(**args), ref.kl_penalized_rewards(**args),
                 atol=rewards_atol(batch, beta), inputs=args)


@pytest.mark.points(1)
@given(batch=reward_batches(), beta=BETAS)
def test_does_not_modify_inputs(student, batch, beta):
    """kl_penalized_rewards leaves its input tensors unchanged (and returns the right rewards)."""
    args = call_args(batch, beta)
    result = student.call("kl_penalized_rewards", **args)
    assert not result.mutated, (
        f"kl_penalized_rewards modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.kl_penalized_rewards(**args), atol=rewards_atol(batch, beta), inputs=args)
