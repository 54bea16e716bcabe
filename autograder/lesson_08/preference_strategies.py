"""Lesson-8 strategies for the sequence-level and offline preference losses.

``sequence_logprob``, ``dpo_loss``, ``ipo_loss`` and ``kto_loss`` take per-sequence (or per-token)
log-probs; every batch is a dict keyed by the graded function's argument names, so a test calls
``student.dpo_loss(**logps, beta=...)``. Inputs respect the problem-set preconditions: a policy's
log-ratio to its reference stays within ±20, and "large" batches put the log-probs themselves near
-1e4 (the numerical-stability bound). ``gspo_loss`` and ``sapo_loss`` use
:func:`autograder.lesson_08.strategies.policy_batches`.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from rlgrade.testing import tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, response_masks, tensors

MAX_BATCH = 5
MAX_SEQ = 6
MAX_LOG_RATIO = 20.0
"""Largest |log pi - log pi_ref| the problem set allows."""
LARGE = 1e4
"""Largest |log-prob| the numerical-stability convention asks for."""

PREFERENCE_NAMES = ("pi_chosen", "pi_rejected", "ref_chosen", "ref_rejected")


@st.composite
def near(draw, logps: torch.Tensor, max_shift: float = MAX_LOG_RATIO):
    """Reference log-probs within ±max_shift of ``logps`` (the log-ratio bound)."""
    return logps + draw(tensors(tuple(logps.shape), logps.dtype, floats(-max_shift, max_shift)))


@st.composite
def policy_logps(draw, shape: tuple[int, ...], dtype: torch.dtype, *, large: bool = False, low: float = -50.0):
    """Sequence log-probs in [low, 0], or in [-1e4, -1e3] when ``large`` (exp() of them underflows to 0)."""
    low, high = (-LARGE, -1e3) if large else (low, 0.0)
    return draw(tensors(shape, dtype, floats(low, high)))


@st.composite
def preference_logps(draw, *, large: bool = False, low: float = -50.0, max_shift: float = MAX_LOG_RATIO,
                     dtype: torch.dtype | None = None, max_batch: int = MAX_BATCH):
    """Sequence log-probs of chosen/rejected answers under the policy and the reference.

    Each reference log-prob lies within ±max_shift of the policy's; ``large`` moves them near -1e4.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    pi_chosen = draw(policy_logps((batch,), dtype, large=large, low=low))
    pi_rejected = draw(policy_logps((batch,), dtype, large=large, low=low))
    return {"pi_chosen": pi_chosen, "pi_rejected": pi_rejected,
            "ref_chosen": draw(near(pi_chosen, max_shift)), "ref_rejected": draw(near(pi_rejected, max_shift))}


@st.composite
def kto_batches(draw, *, large: bool = False, low: float = -50.0, max_shift: float = MAX_LOG_RATIO,
                dtype: torch.dtype | None = None, max_batch: int = MAX_BATCH, kl_low: float = -5.0,
                kl_high: float = 10.0):
    """Unpaired examples: ``pi_logps``, ``ref_logps`` [B], ``desirable`` [B] bool and a 0-dim ``kl_ref``.

    ``kl_ref`` may be negative (an estimate of a KL can be), so that the clamp z0 = max(kl_ref, 0) is exercised.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    pi_logps = draw(policy_logps((batch,), dtype, large=large, low=low))
    desirable = torch.tensor(draw(st.lists(st.booleans(), min_size=batch, max_size=batch)), dtype=torch.bool)
    if kl_low < 0.0 < kl_high:  # either sign, each drawn often (the clamp only matters below 0)
        kl = draw(st.one_of(floats(kl_low, -(2.0 ** -10)), floats(0.0, kl_high)))
    else:
        kl = draw(floats(kl_low, kl_high))
    kl_ref = torch.tensor(kl, dtype=torch.float64).to(dtype)
    return {"pi_logps": pi_logps, "ref_logps": draw(near(pi_logps, max_shift)), "desirable": desirable,
            "kl_ref": kl_ref}


@st.composite
def token_logprob_batches(draw, *, large: bool = False, dtype: torch.dtype | None = None,
                          mask_dtype: torch.dtype | None = None, allow_empty_rows: bool = True,
                          min_valid: int = 0, max_batch: int = 4, max_seq: int = MAX_SEQ):
    """``token_logps`` [B, T] (log-probs in [-20, 0], or near -1e4 when ``large``) and a right-padded ``mask``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    seq = draw(st.integers(1, max_seq))
    mask = draw(response_masks(batch, seq, allow_empty_rows=allow_empty_rows, dtype=mask_dtype,
                               min_valid=min(min_valid, batch * seq)))
    token_logps = draw(policy_logps((batch, seq), dtype, large=large, low=-20.0))
    return {"token_logps": token_logps, "mask": mask}


def largest_abs(*tensors_: torch.Tensor) -> float:
    """max |x| over all the given tensors (0 for empty ones)."""
    return max((float(t.detach().abs().max()) for t in tensors_ if t.numel()), default=0.0)


def rounding_atol(dtype: torch.dtype, magnitude: float, gain: float = 1.0) -> float:
    """Absolute tolerance for a result computed from inputs as large as ``magnitude``.

    Mathematically equal forms (``(pi_c - ref_c) - (pi_r - ref_r)`` or ``(pi_c - pi_r) - (ref_c - ref_r)``) round
    differently: each operation on numbers of size ``magnitude`` may be off by eps * magnitude, and the result
    moves by ``gain`` (a bound on its derivative) per unit of input error. Never below the dtype's default atol.
    """
    eps = torch.finfo(dtype).eps
    return max(tolerance_for(dtype)[1], 8.0 * eps * float(magnitude) * float(gain))
