"""Hidden tests for ``reinforce_pp_advantages``: per-row reward-to-go, whitened over all valid tokens of the batch."""

import math

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from autograder.lesson_12.strategies import returns_by_loops, token_reward_batches
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("reinforce_pp_advantages")
EPS = st.sampled_from([1e-8, 1e-4, 0.1, 1.0])
MASK_DTYPES = st.sampled_from([torch.bool, torch.float32, torch.float64])


def whiten_by_hand(rewards: torch.Tensor, mask: torch.Tensor, eps: float) -> torch.Tensor:
    """Returns by Python loops, then the whitening with Python sums (float64), 0 at padded positions."""
    returns = returns_by_loops(rewards, mask)
    flags = mask.bool().tolist()
    valid = [g for row, keep in zip(returns, flags) for g, k in zip(row, keep) if k]
    mu = math.fsum(valid) / len(valid)
    var = math.fsum((g - mu) ** 2 for g in valid) / (len(valid) - 1)
    scale = math.sqrt(var + eps)
    return torch.tensor([[(g - mu) / scale if k else 0.0 for g, k in zip(row, keep)]
                         for row, keep in zip(returns, flags)], dtype=torch.float64)


def result_dtype(rewards: torch.Tensor) -> torch.dtype:
    return rewards.dtype if rewards.is_floating_point() else torch.float32


@pytest.mark.points(3)
@given(batch=token_reward_batches(), eps=EPS)
def test_matches_reference(student, batch, eps):
    """Advantages match on random padded batches with empty rows (float32/float64, bool/float masks, several eps)."""
    kwargs = {**batch, "eps": eps}
    assert_close(student.reinforce_pp_advantages(**kwargs), ref.reinforce_pp_advantages(**kwargs), inputs=kwargs)


@pytest.mark.points(2)
@given(batch=token_reward_batches(), eps=EPS)
def test_reward_to_go_then_whitening(student, batch, eps):
    """The result equals the reward-to-go over valid tokens, whitened with the Bessel-corrected batch variance."""
    kwargs = {**batch, "eps": eps}
    expected = whiten_by_hand(batch["rewards"], batch["mask"], eps).to(batch["rewards"].dtype)
    assert_close(student.reinforce_pp_advantages(**kwargs), expected,
                 what="(G - mean) / sqrt(var + eps) with G the reward-to-go", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_reward_batches())
def test_whitened_statistics(student, batch):
    """With eps = 0 the valid advantages have mean 0 and Bessel-corrected std 1; padded ones are 0."""
    returns = torch.tensor(returns_by_loops(batch["rewards"], batch["mask"]), dtype=torch.float64)
    valid = batch["mask"].bool()
    assume(bool((returns[valid] != returns[valid][0]).any()))          # not all returns equal
    kwargs = {**batch, "eps": 0.0}
    got = student.reinforce_pp_advantages(**kwargs)
    assert isinstance(got, torch.Tensor) and got.shape == batch["rewards"].shape, (
        f"reinforce_pp_advantages should return a tensor of shape {tuple(batch['rewards'].shape)}, got {got!r}")
    values = got.double()[valid]
    stats = torch.stack([values.mean(), values.std()])
    assert_close(stats, torch.tensor([0.0, 1.0], dtype=torch.float64), atol=1e-5,
                 what="(mean, std) of the advantages at valid tokens", inputs=kwargs)
    assert_close(got.double()[~valid], torch.zeros(int((~valid).sum()), dtype=torch.float64),
                 what="the advantages at padded positions", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES, eps=st.sampled_from([0.0, 3.0, 8.0]))
def test_eps_inside_the_square_root(student, dtype, mask_dtype, eps):
    """Returns (3, 2, 1 | 0, -1 | -) have variance 2.5: the scale is sqrt(2.5 + eps), not std + eps."""
    rewards = torch.tensor([[1.0, 1.0, 1.0], [1.0, -1.0, 7.0], [4.0, 4.0, 4.0]], dtype=dtype)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [0, 0, 0]]).to(mask_dtype)
    kwargs = {"rewards": rewards, "mask": mask, "eps": eps}
    scale = math.sqrt(2.5 + eps)
    expected = torch.tensor([[2.0, 1.0, 0.0], [-1.0, -2.0, 0.0], [0.0, 0.0, 0.0]], dtype=dtype) / scale
    assert_close(student.reinforce_pp_advantages(**kwargs), expected,
                 what=f"the advantages with eps = {eps} (scale sqrt(var + eps) = {scale:.6g})", inputs=kwargs)


@pytest.mark.points(1)
@given(dtype=float_dtypes(), mask_dtype=MASK_DTYPES, data=st.data())
def test_bessel_corrected_variance(student, dtype, mask_dtype, data):
    """Returns (1, 1 | 0, 0) have Bessel variance 1/3, so the advantages are ±sqrt(3)/2 (population variance gives ±1)."""
    rewards = torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=dtype)
    mask = torch.ones(2, 2).to(mask_dtype)
    if data.draw(st.booleans()):                                          # the same with padding appended
        rewards = torch.cat([rewards, torch.tensor([[5.0], [-5.0]], dtype=dtype)], dim=1)
        mask = torch.cat([mask, torch.zeros(2, 1).to(mask_dtype)], dim=1)
    kwargs = {"rewards": rewards, "mask": mask, "eps": 0.0}
    a = math.sqrt(3) / 2
    expected = torch.tensor([[a, a], [-a, -a]], dtype=dtype)
    if rewards.shape[1] == 3:
        expected = torch.cat([expected, torch.zeros(2, 1, dtype=dtype)], dim=1)
    assert_close(student.reinforce_pp_advantages(**kwargs), expected, what="the advantages (Bessel-corrected variance)",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_reward_batches(), data=st.data())
def test_padding_values_do_not_matter(student, batch, data):
    """Other rewards at padded positions give the same (right) advantages, 0 at those positions."""
    pad = ~batch["mask"].bool()
    rewards = batch["rewards"]
    other = {**batch, "rewards": torch.where(pad, data.draw(tensors(tuple(rewards.shape), rewards.dtype,
                                                                     floats(-100.0, 100.0))), rewards)}
    assert_close(student.reinforce_pp_advantages(**other), ref.reinforce_pp_advantages(**batch),
                 what="the advantages with other padding rewards", inputs=other)


@pytest.mark.points(1)
@given(batch=token_reward_batches(dtype=torch.float64), eps=EPS)
def test_integer_rewards_give_float32(student, batch, eps):
    """Integer rewards (e.g. 0/1 correctness on the last token) give float32 advantages."""
    kwargs = {**batch, "rewards": (batch["rewards"] * 4).round().to(torch.int64), "eps": eps}
    expected = whiten_by_hand(kwargs["rewards"], batch["mask"], eps).to(torch.float32)
    assert_close(student.reinforce_pp_advantages(**kwargs), expected, what="the advantages of integer rewards",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_reward_batches(dtype=torch.float32, mask_dtype=torch.float64), eps=EPS)
def test_result_dtype_follows_rewards_not_mask(student, batch, eps):
    """float32 rewards with a float64 mask still give float32 advantages (the mask must not promote them)."""
    kwargs = {**batch, "eps": eps}
    assert_close(student.reinforce_pp_advantages(**kwargs), ref.reinforce_pp_advantages(**kwargs), inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_reward_batches())
def test_does_not_modify_inputs(student, batch):
    """reinforce_pp_advantages leaves its input tensors unchanged (and returns the right advantages)."""
    result = student.call("reinforce_pp_advantages", **batch)
    assert not result.mutated, (
        f"reinforce_pp_advantages modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.reinforce_pp_advantages(**batch), inputs=batch)
