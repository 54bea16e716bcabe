"""Hypothesis strategies named after the course's domain objects.

Tensors are drawn element by element (small shapes), so that a failing case shrinks
to small, readable numbers a TA can reason about. All strategies take the dtype as
an argument; tests draw it with :func:`float_dtypes`.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

FLOAT_DTYPES = (torch.float32, torch.float64)


def float_dtypes() -> st.SearchStrategy[torch.dtype]:
    return st.sampled_from(FLOAT_DTYPES)


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    """Finite floats in [low, high], exactly representable in float32."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def tensors(draw, shape: tuple[int, ...], dtype: torch.dtype, elements: st.SearchStrategy[float] | None = None):
    """A tensor of ``shape`` with elements drawn from ``elements`` (default [-10, 10])."""
    elements = elements if elements is not None else floats(-10.0, 10.0)
    numel = 1
    for d in shape:
        numel *= d
    values = draw(st.lists(elements, min_size=numel, max_size=numel))
    return torch.tensor(values, dtype=torch.float64).to(dtype).reshape(shape)


def logprobs(shape: tuple[int, ...], dtype: torch.dtype, low: float = -20.0):
    """Token log-probabilities: values in [low, 0]."""
    return tensors(shape, dtype, floats(low, 0.0))


@st.composite
def nearby_logprobs(draw, logp: torch.Tensor, max_shift: float = 2.0):
    """Log-probs of an old / reference policy close to ``logp`` (log-ratio within ±max_shift)."""
    shift = draw(tensors(tuple(logp.shape), logp.dtype, floats(-max_shift, max_shift)))
    return logp + shift


@st.composite
def response_masks(draw, batch: int, seq: int, *, allow_empty_rows: bool = True, dtype: torch.dtype | None = None,
                   min_valid: int = 0):
    """Right-padded masks: each row is ones then zeros; bool or float (drawn unless ``dtype``).

    With ``min_valid`` > 0 the whole batch has at least that many valid tokens.
    """
    low = 0 if allow_empty_rows else 1
    lengths = draw(st.lists(st.integers(low, seq), min_size=batch, max_size=batch)
                   .filter(lambda ls: sum(ls) >= min_valid))
    mask = torch.arange(seq)[None, :] < torch.tensor(lengths)[:, None]
    dtype = dtype if dtype is not None else draw(st.sampled_from([torch.bool, torch.float32, torch.float64]))
    return mask.to(dtype)


@st.composite
def group_rewards(draw, n_groups: int, group_size: int, dtype: torch.dtype, *, low: float = -5.0, high: float = 5.0):
    """Rewards for ``n_groups`` prompts × ``group_size`` samples, flattened group by group."""
    return draw(tensors((n_groups * group_size,), dtype, floats(low, high)))


def batch_sizes(max_size: int = 4) -> st.SearchStrategy[int]:
    return st.integers(1, max_size)


def sequence_lengths(max_len: int = 6) -> st.SearchStrategy[int]:
    return st.integers(1, max_len)
