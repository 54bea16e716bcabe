"""Hidden tests for ``gae_token_level``: GAE per response row, V = 0 after the last valid token, 0 on padding."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_06.strategies import (
    SECONDARY_EXAMPLES,
    discounted_atol,
    gammas,
    lams,
    largest,
    other_padding,
    token_batches,
)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import floats

ref = reference_for(__file__)
pytestmark = pytest.mark.question("gae_token_level")


def gae_atol(batch: dict) -> float:
    """Rounding room: an advantage adds up to T TD errors, each built from |r| + 2 |V| (valid positions)."""
    mask = batch["mask"]
    magnitude = largest(batch["rewards"], mask) + 2 * largest(batch["values"], mask)
    return discounted_atol(batch["values"].dtype, batch["values"].shape[1] * magnitude)


def check_tuple(got, batch: dict) -> None:
    shape = tuple(batch["values"].shape)
    assert isinstance(got, (tuple, list)) and len(got) == 2, (
        f"gae_token_level must return a tuple (advantages, returns), got {type(got).__name__}: {got!r}")
    for name, value in zip(("advantages", "returns"), got, strict=True):
        assert isinstance(value, torch.Tensor) and tuple(value.shape) == shape, (
            f"{name} should be a tensor of shape {shape}, got {value!r}")


def lengths(mask: torch.Tensor) -> list[int]:
    return [int(n) for n in mask.bool().sum(dim=1)]


@pytest.mark.points(3)
@given(batch=token_batches(), gamma=gammas(), lam=lams())
def test_matches_reference(student, batch, gamma, lam):
    """Advantages and returns match on padded batches with empty rows (float32/float64, bool/float masks)."""
    kwargs = {**batch, "gamma": gamma, "lam": lam}
    assert_close(student.gae_token_level(**kwargs), ref.gae_token_level(**kwargs), atol=gae_atol(batch),
                 inputs=kwargs)


@pytest.mark.points(2)
@given(batch=token_batches(), gamma=gammas(), lam=lams(), last_value=floats(-5.0, 5.0))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_agrees_with_gae_on_each_row(student, batch, gamma, lam, last_value):
    """Each row equals gae on its valid tokens with a done on the last one (no bootstrap), 0 on padding."""
    kwargs = {**batch, "gamma": gamma, "lam": lam}
    got = student.gae_token_level(**kwargs)
    check_tuple(got, batch)
    rewards, values = batch["rewards"], batch["values"]
    expected = (torch.zeros_like(values), torch.zeros_like(values))
    for b, n in enumerate(lengths(batch["mask"])):
        if n == 0:
            continue
        dones = torch.zeros(n, dtype=torch.bool)
        dones[-1] = True  # the response ends at its last valid token
        adv, ret = ref.gae(rewards[b, :n], values[b, :n], dones, last_value, gamma, lam)
        expected[0][b, :n], expected[1][b, :n] = adv, ret
    assert_close(got, expected, atol=gae_atol(batch), what="(advantages, returns) compared with gae row by row",
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_batches(), gamma=gammas())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_lambda_one_returns_are_rewards_to_go(student, batch, gamma):
    """With lambda = 1 the returns are the discounted sums of the remaining rewards of the row, A = returns - V."""
    kwargs = {**batch, "gamma": gamma, "lam": 1.0}
    got = student.gae_token_level(**kwargs)
    check_tuple(got, batch)
    r, v, m = batch["rewards"].double(), batch["values"].double(), batch["mask"].double()
    returns = torch.zeros_like(r)
    for t in range(r.shape[1]):
        for k in range(t, r.shape[1]):
            returns[:, t] += gamma ** (k - t) * r[:, k] * m[:, k]
    returns = returns * m
    dtype = batch["values"].dtype
    expected = (((returns - v) * m).to(dtype), returns.to(dtype))
    assert_close(got, expected, atol=gae_atol(batch), what="(advantages, returns) with lambda = 1", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_batches(), gamma=gammas())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_lambda_zero_is_the_td_error(student, batch, gamma):
    """With lambda = 0 the advantage is r_t + gamma V_{t+1} - V_t, with V = 0 after the last valid token."""
    kwargs = {**batch, "gamma": gamma, "lam": 0.0}
    got = student.gae_token_level(**kwargs)
    check_tuple(got, batch)
    r, v, m = batch["rewards"].double(), batch["values"].double(), batch["mask"].double()
    following = torch.cat([v[:, 1:] * m[:, 1:], torch.zeros_like(v[:, :1])], dim=1)
    delta = (r + gamma * following - v) * m
    dtype = batch["values"].dtype
    expected = (delta.to(dtype), ((delta + v) * m).to(dtype))
    assert_close(got, expected, atol=gae_atol(batch), what="(advantages, returns) with lambda = 0", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_batches(), gamma=gammas(), lam=lams(), data=st.data())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_padding_values_do_not_matter(student, batch, gamma, lam, data):
    """Other rewards and values at padded positions give the same (right) result: the response ends there."""
    mask = batch["mask"]
    other = {"rewards": other_padding(data, batch["rewards"], mask),
             "values": other_padding(data, batch["values"], mask), "mask": mask, "gamma": gamma, "lam": lam}
    assert_close(student.gae_token_level(**other), ref.gae_token_level(**batch, gamma=gamma, lam=lam),
                 atol=gae_atol(batch), what="(advantages, returns) with other padding values", inputs=other)


@pytest.mark.points(1)
@given(batch=token_batches(dtype=torch.float32, mask_dtype=torch.float64), gamma=gammas(), lam=lams())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_result_dtype_follows_values_not_mask(student, batch, gamma, lam):
    """float32 rewards and values with a float64 mask still give float32 results (the mask must not promote them)."""
    kwargs = {**batch, "gamma": gamma, "lam": lam}
    assert_close(student.gae_token_level(**kwargs), ref.gae_token_level(**kwargs), atol=gae_atol(batch),
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=token_batches(), gamma=gammas(), lam=lams())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_does_not_modify_inputs(student, batch, gamma, lam):
    """gae_token_level leaves its input tensors unchanged (and returns the right result)."""
    result = student.call("gae_token_level", **batch, gamma=gamma, lam=lam)
    assert not result.mutated, (
        f"gae_token_level modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.gae_token_level(**batch, gamma=gamma, lam=lam), atol=gae_atol(batch),
                 inputs={**batch, "gamma": gamma, "lam": lam})
