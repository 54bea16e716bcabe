"""Lesson-8 strategies: policy-gradient batches (log-probs, advantages, masks), critic batches and reward groups.

Every batch is a dict keyed by the graded functions' argument names, so a test calls
``student.ppo_clip_loss(**batch, clip_eps=...)``. Inputs respect the problem-set
preconditions: masks are right-padded, padding values are finite, and the log-ratio
between the policy and its old / reference log-probs stays within ±20 everywhere
(within ``max_shift`` at valid tokens, so that the interesting region of the clip is hit).
"""

from __future__ import annotations

import statistics

import torch
from hypothesis import strategies as st

from rlgrade.testing import tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, logprobs, response_masks, tensors

MAX_BATCH = 4
MAX_SEQ = 6
PADDING_SHIFT = 20.0
"""Largest |log-ratio| at padded positions (the problem set's bound)."""

EXACT_REWARDS = (-2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0)
"""Exactly representable rewards for constant groups (their deviation from the group mean is exactly 0)."""


@st.composite
def shifted_logprobs(draw, logp: torch.Tensor, mask: torch.Tensor, max_shift: float = 2.0,
                     padding_shift: float = PADDING_SHIFT):
    """Old / reference log-probs: ``logp`` plus a shift within ±max_shift at valid tokens, ±padding_shift elsewhere."""
    # one draw per position (valid or padding), so that a failing case shrinks quickly
    valid, junk = floats(-max_shift, max_shift), floats(-padding_shift, padding_shift)
    shift = [draw(valid if keep else junk) for keep in mask.bool().reshape(-1).tolist()]
    return logp + torch.tensor(shift, dtype=torch.float64).to(logp.dtype).reshape(logp.shape)


@st.composite
def policy_batches(draw, *, old: bool = True, ref: bool = False, advantages: str | None = "token",
                   scores: bool = False, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None,
                   allow_empty_rows: bool = True, min_valid: int = 1, max_shift: float = 2.0, offset: float = 0.0,
                   max_batch: int = MAX_BATCH, max_seq: int = MAX_SEQ):
    """A batch of ``logp`` [B, T] (+ ``logp_old``, ``logp_ref``, ``advantages``, ``scores``) and a ``mask``.

    ``advantages`` is "token" ([B, T]), "sequence" ([B]) or None. ``offset`` moves every log-prob
    (e.g. -1e4 for the numerical-stability tests) without changing the log-ratios.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    seq = draw(st.integers(1, max_seq))
    mask = draw(response_masks(batch, seq, allow_empty_rows=allow_empty_rows, dtype=mask_dtype,
                               min_valid=min(min_valid, batch * seq)))
    logp = draw(logprobs((batch, seq), dtype)) + offset
    out = {"logp": logp}
    if old:
        out["logp_old"] = draw(shifted_logprobs(logp, mask, max_shift))
    if ref:
        out["logp_ref"] = draw(shifted_logprobs(logp, mask, max_shift))
    if advantages is not None:
        shape = (batch, seq) if advantages == "token" else (batch,)
        out["advantages"] = draw(tensors(shape, dtype, floats(-5.0, 5.0)))
    if scores:
        out["scores"] = draw(tensors((batch,), dtype, floats(-5.0, 5.0)))
    out["mask"] = mask
    return out


@st.composite
def critic_batches(draw, *, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None,
                   allow_empty_rows: bool = True, min_valid: int = 1, max_move: float = 1.0):
    """``values``, ``values_old`` (within ±max_move of values at valid tokens), ``returns`` [B, T] and a ``mask``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, MAX_BATCH))
    seq = draw(st.integers(1, MAX_SEQ))
    mask = draw(response_masks(batch, seq, allow_empty_rows=allow_empty_rows, dtype=mask_dtype,
                               min_valid=min(min_valid, batch * seq)))
    values = draw(tensors((batch, seq), dtype, floats(-5.0, 5.0)))
    values_old = draw(shifted_logprobs(values, mask, max_move, padding_shift=10.0))
    returns = draw(tensors((batch, seq), dtype, floats(-5.0, 5.0)))
    return {"values": values, "values_old": values_old, "returns": returns, "mask": mask}


@st.composite
def token_losses(draw, *, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None,
                 allow_empty_rows: bool = True, min_valid: int = 0):
    """``per_token`` losses [B, T] (junk in the padding too) and a right-padded ``mask``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, MAX_BATCH))
    seq = draw(st.integers(1, MAX_SEQ))
    mask = draw(response_masks(batch, seq, allow_empty_rows=allow_empty_rows, dtype=mask_dtype,
                               min_valid=min(min_valid, batch * seq)))
    return {"per_token": draw(tensors((batch, seq), dtype)), "mask": mask}


def _spread_enough(values: list[float]) -> bool:
    return statistics.stdev(values) >= 0.05


@st.composite
def one_group(draw, group_size: int, *, constant: bool = True):
    """One prompt's rewards: constant (exact values), on a grid of quarters, or spread-out floats.

    Near-constant groups are left out: their group-normalised advantages are ill-conditioned,
    and two correct formulas would disagree in the last bits of a tiny std.
    """
    kind = draw(st.sampled_from(("constant", "grid", "float") if constant else ("grid", "float")))
    if kind == "constant":
        return [draw(st.sampled_from(EXACT_REWARDS))] * group_size
    if kind == "grid":
        grid = st.lists(st.integers(-20, 20), min_size=group_size, max_size=group_size)
        if not constant:
            grid = grid.filter(lambda ks: len(set(ks)) > 1)
        return [k / 4 for k in draw(grid)]
    return draw(st.lists(floats(-5.0, 5.0), min_size=group_size, max_size=group_size).filter(_spread_enough))


@st.composite
def reward_groups(draw, *, dtype: torch.dtype | None = None, group_sizes=(2, 3, 4, 5), max_groups: int = 3,
                  constant: bool = True):
    """``(rewards [N], group_size)``: N/G consecutive groups (see :func:`one_group`)."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    group_size = draw(st.sampled_from(group_sizes))
    n_groups = draw(st.integers(1, max_groups))
    flat = [r for _ in range(n_groups) for r in draw(one_group(group_size, constant=constant))]
    return torch.tensor(flat, dtype=torch.float64).to(dtype), group_size


@st.composite
def mixed_groups(draw, group_sizes=(2, 3, 4, 7)):
    """(rewards, group_size): constant groups of exact values and one group that is not constant, in some order."""
    dtype = draw(float_dtypes())
    group_size = draw(st.sampled_from(group_sizes))
    constants = draw(st.lists(st.sampled_from(EXACT_REWARDS), min_size=1, max_size=3))
    varied = st.lists(st.integers(-8, 8), min_size=group_size, max_size=group_size).filter(lambda ks: len(set(ks)) > 1)
    spread = draw(varied)
    groups = [[c] * group_size for c in constants]
    groups.insert(draw(st.integers(0, len(groups))), [k / 4 for k in spread])
    return torch.tensor([r for g in groups for r in g], dtype=dtype), group_size


def assert_signs_follow_centred_rewards(got: torch.Tensor, rewards: torch.Tensor, group_size: int, inputs: dict):
    """Where r is clearly above (below) its group mean, the advantage must be positive (negative)."""
    grouped = rewards.double().reshape(-1, group_size)
    centred = (grouped - grouped.mean(dim=1, keepdim=True)).reshape(-1)
    clear = centred.abs() > 1e-4
    wrong = clear & (torch.sign(got.double()) != torch.sign(centred))
    if wrong.any():
        i = int(torch.nonzero(wrong)[0])
        side, sign = ("above", "positive") if centred[i] > 0 else ("below", "negative")
        raise AssertionError(f"advantage {i} is {float(got[i])!r} but its reward is {side} its group mean by "
                             f"{abs(float(centred[i])):.4g}: it should be {sign}\n  inputs: {inputs}")


def scaled_atol(dtype: torch.dtype, magnitude: float) -> float:
    """Absolute tolerance for a sum or mean of terms as large as ``magnitude``: the dtype's atol times it.

    A correct rewrite may add the terms in another order; its rounding error grows with the terms.
    """
    return tolerance_for(dtype)[1] * max(1.0, float(magnitude))


def largest(values: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """max |values| over the valid positions (0 if there are none)."""
    values = values.detach().to(torch.float64).abs()
    if mask is not None:
        values = values[mask.bool()]
    return float(values.max()) if values.numel() else 0.0


def away_from_kinks(x: torch.Tensor, mask: torch.Tensor, kinks, margin: float = 1e-3) -> bool:
    """True when no valid entry of ``x`` is within ``margin`` of a kink (where a gradient is one-sided)."""
    x = x.detach().to(torch.float64)[mask.bool()]
    return all(bool(((x - k).abs() > margin).all()) for k in kinks)
