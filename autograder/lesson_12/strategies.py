"""Lesson-12 strategies: response lengths, reward groups and per-token reward batches.

- :func:`length_batches` gives ``(lengths, max_len, cache_len)`` with lengths on both sides of both
  boundaries of DAPO's ramp, as int64 / int32 / float tensors holding whole numbers.
- :func:`reward_groups` gives ``(rewards, group_size)``: consecutive groups that are constant (exact or
  inexact values, e.g. seven 0.1s), 0/1 correctness, or varied.
- :func:`token_reward_batches` gives REINFORCE++ inputs: sparse per-token rewards on a grid of quarters
  (so that every return is exact in either precision and in any summation order), a right-padded mask
  with at least two valid tokens in the batch, and junk rewards in the padding.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from rlgrade.testing.strategies import float_dtypes, floats, response_masks

CONFIGS = ((20, 4), (16, 1), (8, 8), (30, 7), (12, 5), (20480, 4096))
"""(max_len, cache_len) pairs: the worked example, a one-token ramp, a ramp from 0, odd sizes, DAPO's own."""
LENGTH_DTYPES = (torch.int64, torch.int32, torch.float32, torch.float64)
EXACT_REWARDS = (-2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0)
"""Exactly representable rewards: a constant group of them has max == min and a zero computed std."""
INEXACT_REWARDS = (0.1, 0.3, 0.7, 1 / 3)
"""Not representable: a group of seven equal ones has a computed std > 0 (the mean is rounded)."""


@st.composite
def length_batches(draw, *, dtype: torch.dtype | None = None, configs=CONFIGS, max_size: int = 8):
    """``(lengths [N], max_len, cache_len)``: lengths below, on and above both ends of the ramp."""
    max_len, cache_len = draw(st.sampled_from(configs))
    expected_len = max_len - cache_len
    dtype = dtype if dtype is not None else draw(st.sampled_from(LENGTH_DTYPES))
    one = st.one_of(st.integers(0, expected_len),                                    # no penalty
                    st.integers(max(expected_len - 1, 0), max_len + 1),              # the ramp and its ends
                    st.integers(max_len, 3 * max_len))                               # truncated / overlong
    values = draw(st.lists(one, min_size=1, max_size=max_size))
    return torch.tensor(values, dtype=torch.int64).to(dtype), max_len, cache_len


def exact_penalty(lengths: list[int], max_len: int, cache_len: int) -> list[float]:
    """DAPO's penalty in Python floats, one case per line of the paper's formula."""
    expected_len = max_len - cache_len
    out = []
    for n in lengths:
        if n <= expected_len:
            out.append(0.0)
        elif n <= max_len:
            out.append((expected_len - n) / cache_len)
        else:
            out.append(-1.0)
    return out


@st.composite
def one_group(draw, group_size: int, kind: str):
    if kind == "constant":
        return [draw(st.sampled_from(EXACT_REWARDS))] * group_size
    if kind == "inexact":
        return [draw(st.sampled_from(INEXACT_REWARDS))] * group_size
    if kind == "binary":
        return [float(b) for b in draw(st.lists(st.integers(0, 1), min_size=group_size, max_size=group_size))]
    if kind == "grid":
        grid = st.lists(st.integers(-8, 8), min_size=group_size, max_size=group_size).filter(lambda ks: len(set(ks)) > 1)
        return [k / 4 for k in draw(grid)]
    # varied floats (exact in float32, so distinct values stay distinct in either precision)
    return draw(st.lists(floats(-5.0, 5.0), min_size=group_size, max_size=group_size)
                .filter(lambda xs: len(set(xs)) > 1))


KINDS = ("constant", "inexact", "binary", "grid", "float")


@st.composite
def reward_groups(draw, *, dtype: torch.dtype | None = None, group_sizes=(2, 3, 4, 5, 7), max_groups: int = 4,
                  kinds=KINDS, varied: bool = True):
    """``(rewards [N], group_size)``: ``n`` consecutive groups of the given kinds, at least one varied if ``varied``.

    Integer dtypes get 0/1 or grid-times-4 integers.
    """
    dtype = dtype if dtype is not None else draw(st.sampled_from((torch.float32, torch.float64)))
    group_size = draw(st.sampled_from(group_sizes))
    n_groups = draw(st.integers(1, max_groups))
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=n_groups, max_size=n_groups))
    if varied and not any(k in ("grid", "float") for k in chosen):
        chosen[draw(st.integers(0, n_groups - 1))] = "grid"
    groups = [draw(one_group(group_size, k)) for k in chosen]
    flat = torch.tensor([r for g in groups for r in g], dtype=torch.float64)
    if not dtype.is_floating_point:
        flat = (flat * 4).round()  # the quarter grid (and 0/1) as integers; constant groups stay constant
    return flat.to(dtype), group_size


@st.composite
def token_reward_batches(draw, *, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None,
                         allow_empty_rows: bool = True, max_batch: int = 4, max_seq: int = 6):
    """``rewards`` [B, T] and ``mask``: sparse quarter-grid rewards in [-2, 2] at valid tokens, junk in the padding."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    seq = draw(st.integers(2 if batch == 1 else 1, max_seq))
    mask = draw(response_masks(batch, seq, allow_empty_rows=allow_empty_rows, dtype=mask_dtype, min_valid=2))
    valid = st.one_of(st.just(0), st.integers(-8, 8))
    junk = floats(-10.0, 10.0)
    values = [draw(valid) / 4 if keep else draw(junk) for keep in mask.bool().reshape(-1).tolist()]
    rewards = torch.tensor(values, dtype=torch.float64).reshape(batch, seq).to(dtype)
    return {"rewards": rewards, "mask": mask}


def returns_by_loops(rewards: torch.Tensor, mask: torch.Tensor) -> list[list[float]]:
    """Reward-to-go with gamma = 1 over the valid tokens of each row, in Python floats (0 at padding)."""
    out = []
    for row_r, row_m in zip(rewards.double().tolist(), mask.double().tolist()):
        running, row = 0.0, [0.0] * len(row_r)
        for t in reversed(range(len(row_r))):
            if row_m[t]:
                running += row_r[t]
                row[t] = running
        out.append(row)
    return out
