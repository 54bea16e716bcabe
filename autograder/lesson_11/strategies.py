"""Lesson-11 strategies: pairs of length-averaged log-probs (SimPO, ORPO) and CISPO batches.

Every batch is a dict keyed by the graded function's argument names, so a test calls
``student.simpo_loss(**pairs, beta=...)``. Inputs respect the problem-set preconditions:
average log-probs are <= 0 (strictly < 0 for ORPO, whose odds are infinite at 0), padding
values are finite, and the log-ratio between the policy and its old log-probs stays within
±20 (within ``max_shift`` at valid tokens).
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from rlgrade.testing import tolerance_for
from rlgrade.testing.compare import largest_abs, rounding_atol  # noqa: F401 - the tests import them from here
from rlgrade.testing.strategies import float_dtypes, floats, logprobs, response_masks, tensors

MAX_BATCH = 5
MAX_SEQ = 6
LARGE = 1e4
"""Largest |log-prob| the numerical-stability convention asks for."""
PADDING_SHIFT = 20.0
"""Largest |log-ratio| at padded positions (the problem set's bound)."""
NEAR_ZERO = (-1e-3, -1e-4, -1e-5, -1e-6, -1e-7, -1e-8, -1e-10, -1e-20)
"""Average log-probs of almost certain answers: 1 - exp(l) cancels catastrophically there."""
TOP = -(2.0 ** -10)
"""Largest average log-prob of the "ordinary" range (strictly below 0)."""


@st.composite
def avg_logprob_pairs(draw, *, low: float = -10.0, high: float = TOP, large: bool = False,
                      dtype: torch.dtype | None = None, max_batch: int = MAX_BATCH):
    """``pi_chosen_avg``, ``pi_rejected_avg`` [B]: average log-probs in [low, high], or in [-1e4, -1e3] when ``large``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    low, high = (-LARGE, -1e3) if large else (low, high)
    return {"pi_chosen_avg": draw(tensors((batch,), dtype, floats(low, high))),
            "pi_rejected_avg": draw(tensors((batch,), dtype, floats(low, high)))}


@st.composite
def near_zero_pairs(draw, dtype: torch.dtype | None = None, max_batch: int = MAX_BATCH):
    """Pairs where the rejected answer (and often the chosen one) is almost certain: l in ``NEAR_ZERO``.

    The rejected side is always near 0, so that its log-odds (about -log(-l)) enters the loss with slope ~1
    and an inaccurate log(1 - exp(l)) shows in the result.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    chosen = draw(st.lists(st.one_of(st.sampled_from(NEAR_ZERO), floats(-5.0, -0.015625)), min_size=batch,
                           max_size=batch))
    rejected = draw(st.lists(st.sampled_from(NEAR_ZERO), min_size=batch, max_size=batch))
    return {"pi_chosen_avg": torch.tensor(chosen, dtype=torch.float64).to(dtype),
            "pi_rejected_avg": torch.tensor(rejected, dtype=torch.float64).to(dtype)}


@st.composite
def shifted_logprobs(draw, logp: torch.Tensor, mask: torch.Tensor, max_shift: float = 2.0,
                     padding_shift: float = PADDING_SHIFT):
    """Old log-probs: ``logp`` plus a shift within ±max_shift at valid tokens, ±padding_shift elsewhere."""
    valid, junk = floats(-max_shift, max_shift), floats(-padding_shift, padding_shift)
    shift = [draw(valid if keep else junk) for keep in mask.bool().reshape(-1).tolist()]
    return logp + torch.tensor(shift, dtype=torch.float64).to(logp.dtype).reshape(logp.shape)


@st.composite
def cispo_batches(draw, *, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None,
                  allow_empty_rows: bool = True, min_valid: int = 1, max_shift: float = 2.0, offset: float = 0.0,
                  max_batch: int = 4, max_seq: int = MAX_SEQ):
    """``logp``, ``logp_old`` [B, T], ``advantages`` [B] and a right-padded ``mask``.

    ``offset`` moves every log-prob (e.g. -1e4 for the stability tests) without changing the log-ratios.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    seq = draw(st.integers(1, max_seq))
    mask = draw(response_masks(batch, seq, allow_empty_rows=allow_empty_rows, dtype=mask_dtype,
                               min_valid=min(min_valid, batch * seq)))
    logp = draw(logprobs((batch, seq), dtype)) + offset
    return {"logp": logp, "logp_old": draw(shifted_logprobs(logp, mask, max_shift)),
            "advantages": draw(tensors((batch,), dtype, floats(-5.0, 5.0))), "mask": mask}


def cispo_terms(batch: dict, eps_high: float) -> torch.Tensor:
    """|min(r, 1 + eps) * A * logp| per token, in float64 (the size of what is averaged)."""
    logp = batch["logp"].double()
    weight = torch.exp(logp - batch["logp_old"].double()).clamp(max=1 + eps_high)
    return (weight * batch["advantages"].double()[:, None] * logp).abs()


def cispo_atol(batch: dict, eps_high: float) -> float:
    """Rounding room for a token mean of terms as large as the largest valid one (summed in another order)."""
    terms = cispo_terms(batch, eps_high)[batch["mask"].bool()]
    magnitude = float(terms.max()) if terms.numel() else 0.0
    return tolerance_for(batch["logp"].dtype)[1] * max(1.0, magnitude)
