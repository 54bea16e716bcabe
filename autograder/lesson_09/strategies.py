"""Lesson-9 strategies: masked tensors, LoRA layers, rollouts to pack and microbatched token losses.

Every draw is a dict keyed by the graded function's argument names, so a test calls
``student.masked_mean(**batch, dim=...)``. Inputs respect the problem-set preconditions:
masked positions hold finite junk, whitening sees at least two valid values, and every
packed batch has at least one token.
"""

from __future__ import annotations

import statistics

import torch
from hypothesis import strategies as st

from rlgrade.testing import tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, response_masks, tensors

MAX_BATCH = 4
MAX_SEQ = 6
MASK_DTYPES = (torch.bool, torch.float32, torch.float64)
EXACT_VALUES = (-2.0, -0.5, 0.5, 1.0, 3.0)
"""Exactly representable constants: their masked mean is exactly the constant, their deviations exactly 0."""


def mask_dtypes() -> st.SearchStrategy[torch.dtype]:
    return st.sampled_from(MASK_DTYPES)


@st.composite
def shapes(draw, max_dims: int = 3, max_side: int = 4) -> tuple[int, ...]:
    """A tensor shape with 1 to ``max_dims`` dimensions of 1 to ``max_side`` entries."""
    ndim = draw(st.integers(1, max_dims))
    return tuple(draw(st.integers(1, max_side)) for _ in range(ndim))


def numel_of(shape: tuple[int, ...]) -> int:
    numel = 1
    for d in shape:
        numel *= d
    return numel


@st.composite
def masks(draw, shape: tuple[int, ...], *, dtype: torch.dtype | None = None, min_valid: int = 0):
    """A mask of ``shape`` with any pattern of ones and zeros (at least ``min_valid`` ones)."""
    numel = numel_of(shape)
    bits = draw(st.lists(st.booleans(), min_size=numel, max_size=numel).filter(lambda b: sum(b) >= min_valid))
    dtype = dtype if dtype is not None else draw(mask_dtypes())
    return torch.tensor(bits, dtype=torch.bool).reshape(shape).to(dtype)


@st.composite
def masked_tensors(draw, *, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None,
                   min_valid: int = 0, max_dims: int = 3, spread: float = 0.0):
    """``x`` of a random shape (junk at masked positions too) and a ``mask`` of any pattern.

    With ``spread`` > 0 the valid values have a (Bessel) std of at least ``spread``: whitening
    divides by it, and a tiny std would make two correct formulas disagree in their last bits.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shape = draw(shapes(max_dims).filter(lambda s: numel_of(s) >= min_valid))
    numel = numel_of(shape)
    mask = draw(masks(shape, dtype=mask_dtype, min_valid=min_valid))
    x = draw(tensors(shape, dtype))
    if spread > 0:
        valid = x.double()[mask.bool()].tolist()
        if len(valid) < 2 or statistics.stdev(valid) < spread:
            # spread them out: neighbours then differ by at least 3 - 2 = 1
            x = (x.double() / 10 + 3 * torch.arange(numel, dtype=torch.float64).reshape(shape)).to(dtype)
    return {"x": x, "mask": mask}


def dims(ndim: int) -> st.SearchStrategy:
    """None (reduce everything) or a dimension of an ``ndim``-dimensional tensor, negative ones included."""
    return st.one_of(st.none(), st.integers(-ndim, ndim - 1))


@st.composite
def lora_layers(draw, *, dtype: torch.dtype | None = None, square: bool | None = None, lead: tuple | None = None):
    """``x`` [..., I], ``W`` [O, I], ``A`` [r, I], ``B`` [O, r] (no alpha).

    ``square`` forces O == I (where a transposed update still has the right shape) or O != I;
    ``lead`` fixes x's leading dimensions (default: none, (n,) or (b, t)).
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n_in = draw(st.integers(1, 5))
    if square is None:
        square = draw(st.booleans())
    n_out = n_in if square else draw(st.integers(1, 5).filter(lambda o: o != n_in))
    rank = draw(st.integers(1, 3))
    if lead is None:
        lead = draw(st.sampled_from([(), (1,), (3,), (2, 3), (1, 4)]))
    values = floats(-2.0, 2.0)
    return {"x": draw(tensors((*lead, n_in), dtype, values)), "W": draw(tensors((n_out, n_in), dtype, values)),
            "A": draw(tensors((rank, n_in), dtype, values)), "B": draw(tensors((n_out, rank), dtype, values))}


ALPHAS = st.sampled_from([1, 2.0, 8.0, 16, 0.5])


def lora_atol(layer: dict, alpha: float) -> float:
    """Rounding room for x W^T + (alpha/r) x A^T B^T: the dtype's eps times the sum of |terms|."""
    d = {k: v.double().abs() for k, v in layer.items()}
    r = layer["A"].shape[0]
    size = d["x"] @ d["W"].T + abs(alpha) / r * (d["x"] @ d["A"].T) @ d["B"].T
    eps = torch.finfo(layer["x"].dtype).eps
    return 8 * eps * max(1.0, float(size.max()) if size.numel() else 1.0)


def merge_atol(layer: dict, alpha: float) -> float:
    """Rounding room for W + (alpha/r) B A."""
    d = {k: v.double().abs() for k, v in layer.items()}
    r = layer["A"].shape[0]
    size = d["W"] + abs(alpha) / r * d["B"] @ d["A"]
    return 8 * torch.finfo(layer["W"].dtype).eps * max(1.0, float(size.max()))


PAD_IDS = (0, 1, 2, 50256, 151643)
"""0 and 2 are common pad / eos ids, 50256 is GPT-2's eos (reused as pad), 151643 Qwen's."""


@st.composite
def token_lists(draw, pad_id: int, max_len: int = 4):
    """Token ids, where ``pad_id`` itself is a frequent real token (and ids beyond int32 occur)."""
    ids = st.one_of(st.just(pad_id), st.integers(0, 12), st.sampled_from([50256, 151643, 2**33 + 5]))
    return draw(st.lists(ids, max_size=max_len))


@st.composite
def rollouts(draw, *, max_batch: int = MAX_BATCH, pad_ids=PAD_IDS):
    """``prompts``, ``responses`` (lists of token-id lists, empty ones included) and a ``pad_id``."""
    pad_id = draw(st.sampled_from(pad_ids))
    batch = draw(st.integers(1, max_batch))
    prompts = [draw(token_lists(pad_id)) for _ in range(batch)]
    responses = [draw(token_lists(pad_id)) for _ in range(batch)]
    if not any(prompts[b] or responses[b] for b in range(batch)):
        responses[0] = [pad_id]  # at least one token in the batch (a real token equal to pad_id)
    return {"prompts": prompts, "responses": responses, "pad_id": pad_id}


@st.composite
def microbatches(draw, *, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None):
    """One microbatch's ``per_token_loss`` [b, T] and right-padded ``mask`` (empty rows, even all of them),
    and ``total_valid_tokens``: its own count plus those of the other microbatches (at least 1)."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch, seq = draw(st.integers(1, MAX_BATCH)), draw(st.integers(1, MAX_SEQ))
    mask = draw(response_masks(batch, seq, dtype=mask_dtype))
    own = int(mask.bool().sum())
    total = draw(st.integers(max(1, own), own + 12))
    return {"per_token_loss": draw(tensors((batch, seq), dtype, floats(0.0, 10.0))), "mask": mask,
            "total_valid_tokens": total}


@st.composite
def classifier_batches(draw, *, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None):
    """A tiny softmax-regression "model" and a padded batch for it.

    ``features`` [B, T, D], ``targets`` [B, T] (ids < V), ``weight`` [V, D] (the parameters), a
    right-padded ``mask`` [B, T] with at least one valid token, and ``splits``: a random partition of
    the B rows into microbatches (lists of row indices, in a shuffled order).
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch, seq = draw(st.integers(2, 5)), draw(st.integers(1, 4))
    dim, vocab = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    mask = draw(response_masks(batch, seq, dtype=mask_dtype, min_valid=1))
    features = draw(tensors((batch, seq, dim), dtype, floats(-2.0, 2.0)))
    weight = draw(tensors((vocab, dim), dtype, floats(-1.0, 1.0)))
    targets = torch.tensor(draw(st.lists(st.integers(0, vocab - 1), min_size=batch * seq, max_size=batch * seq)),
                           dtype=torch.int64).reshape(batch, seq)
    order = draw(st.permutations(list(range(batch))))
    cuts = sorted(draw(st.sets(st.integers(1, batch - 1), min_size=1, max_size=batch - 1)))
    splits = [order[i:j] for i, j in zip([0, *cuts], [*cuts, batch])]
    return {"features": features, "targets": targets, "weight": weight, "mask": mask, "splits": splits}


def per_token_cross_entropy(features: torch.Tensor, targets: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """[B, T] cross-entropy losses of the linear softmax model logits = features @ weight^T."""
    logits = features @ weight.T                                         # (B, T, V)
    return -torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def scaled_atol(dtype: torch.dtype, magnitude: float) -> float:
    """Absolute tolerance for a sum or mean of terms as large as ``magnitude`` (any summation order)."""
    return tolerance_for(dtype)[1] * max(1.0, float(magnitude))


def largest(values: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """max |values| over the valid positions (0 if there are none)."""
    values = values.detach().to(torch.float64).abs()
    if mask is not None:
        values = values[mask.bool()]
    return float(values.max()) if values.numel() else 0.0


def whiten_atol(x: torch.Tensor, mask: torch.Tensor) -> float:
    """Rounding room for (x - mu) / std: the dtype's eps times max|x| / std, times a safety factor."""
    valid = x.detach().double()[mask.bool()]
    std = float(valid.std()) if valid.numel() >= 2 else 0.0
    eps = torch.finfo(x.dtype).eps if x.is_floating_point() else torch.finfo(torch.float32).eps
    return tolerance_for(torch.float64)[1] + 32 * eps * (1.0 + largest(valid) / max(std, 1e-3))
