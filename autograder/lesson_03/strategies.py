"""Lesson-3 strategies: logits and token ids, attention inputs with masks, sampling-filter cases, token log-probs.

Shapes stay tiny (B <= 4, H <= 2, T <= 6, V <= 8): the tests look for cases, not size. Inputs respect the
problem-set preconditions: token ids lie in [0, V); every attention query has at least one allowed key;
top-p thresholds stay away from the cumulative sums (where rounding would decide).
"""

from __future__ import annotations

import math

import torch
from hypothesis import assume
from hypothesis import strategies as st

from rlgrade.testing import tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, response_masks, tensors

LARGE = 1e4
"""Largest |logit| the numerical-stability convention asks for."""


# ----------------------------------------------------------------------------- tolerances and checks

def magnitude(*xs: torch.Tensor) -> float:
    """max |x| over the given tensors (finite entries only), at least 1."""
    biggest = 1.0
    for x in xs:
        x = x.detach().to(torch.float64)
        x = x[torch.isfinite(x)]
        if x.numel():
            biggest = max(biggest, float(x.abs().max()))
    return biggest


def logit_atol(dtype: torch.dtype, *xs: torch.Tensor) -> float:
    """Rounding room for a result built from logits as large as ``magnitude(xs)``.

    log_softmax subtracts two numbers of that size; two correct forms (log_softmax + gather, z_y - logsumexp,
    logsumexp - sum p z) can differ by a few ulps of it.
    """
    return max(tolerance_for(dtype)[1], 16 * torch.finfo(dtype).eps * magnitude(*xs))


def assert_finite_where_expected(got: object, expected: torch.Tensor, what: str, inputs: dict, hint: str) -> None:
    """Fail with a message naming overflow / NaN when ``got`` is not finite where the exact answer is."""
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
        return  # assert_close explains type and shape problems
    bad = ~torch.isfinite(got.detach().to(torch.float64)) & torch.isfinite(expected.to(torch.float64))
    if bad.any():
        index = tuple(int(i) for i in torch.nonzero(bad)[0].tolist())
        short = {k: (v if not isinstance(v, torch.Tensor) or v.numel() <= 64 else f"tensor{tuple(v.shape)}")
                 for k, v in inputs.items()}
        raise AssertionError(
            f"{what} is not finite at index {index}: got {got[index].item()!r}, expected "
            f"{expected[index].item()!r} ({int(bad.sum())} of {bad.numel()} entries overflowed or became NaN). "
            f"{hint}\n  inputs: {short}")


def check_tensor_form(got: object, like: torch.Tensor, what: str) -> None:
    """``got`` must be a tensor with the shape and dtype of ``like``."""
    if not isinstance(got, torch.Tensor):
        raise AssertionError(f"{what} should be a tensor of shape {tuple(like.shape)}, got {type(got).__name__}: {got!r}")
    if tuple(got.shape) != tuple(like.shape):
        raise AssertionError(f"{what} has shape {tuple(got.shape)}, expected {tuple(like.shape)}")
    if got.dtype != like.dtype:
        raise AssertionError(f"{what} has dtype {got.dtype}, expected {like.dtype} (keep the dtype of the logits)")


def assert_same_distribution(got: object, expected: torch.Tensor, what: str, inputs: dict) -> None:
    """Compare what a sampling filter leaves: softmax of the filtered logits (computed here, in float64).

    First which tokens keep probability mass (exactly), then the renormalised probabilities.
    """
    check_tensor_form(got, expected, what)
    p_got = torch.softmax(got.detach().to(torch.float64), dim=-1)
    p_exp = torch.softmax(expected.detach().to(torch.float64), dim=-1)
    kept_got, kept_exp = p_got > 0, p_exp > 0
    described = "\n  inputs: " + ", ".join(f"{k}={v!r}" for k, v in inputs.items())
    if not torch.isfinite(p_got).all():
        if bool((got == float("-inf")).all(dim=-1).any()):
            raise AssertionError(f"{what} set every token of a row to -inf, so nothing can be sampled: at least the "
                                 f"most likely token must keep its logit. Got {got!r}" + described)
        raise AssertionError(f"softmax of {what} is not finite (NaN in the result?): got {got!r}" + described)
    if not torch.equal(kept_got, kept_exp):
        rows_got = kept_got.reshape(-1, kept_got.shape[-1])
        rows_exp = kept_exp.reshape(-1, kept_exp.shape[-1])
        row = int(torch.nonzero((rows_got != rows_exp).any(dim=-1))[0])
        survivors = lambda r: [i for i, keep in enumerate(r.tolist()) if keep]
        raise AssertionError(
            f"{what}: wrong tokens keep probability mass in row {row} (of the rows along the last axis): "
            f"expected tokens {survivors(rows_exp[row])}, got tokens {survivors(rows_got[row])}\n"
            f"  expected: {expected!r}\n  got:      {got!r}" + described)
    atol = 1e-5 if expected.dtype == torch.float32 else 1e-9
    if not torch.allclose(p_got, p_exp, rtol=1e-5, atol=atol):
        index = tuple(int(i) for i in torch.nonzero(~torch.isclose(p_got, p_exp, rtol=1e-5, atol=atol))[0].tolist())
        raise AssertionError(
            f"{what}: the renormalised probabilities softmax(result) differ at index {index}: expected "
            f"{p_exp[index].item():.6g}, got {p_got[index].item():.6g} (the surviving logits should keep their values)\n"
            f"  expected: {expected!r}\n  got:      {got!r}" + described)


# ----------------------------------------------------------------------------- logits and token ids

@st.composite
def logit_values(draw, shape: tuple[int, ...], dtype: torch.dtype, *, large: bool = False, ties: bool = False):
    """Logits of ``shape``: floats in [-10, 10]; with ``ties`` small integers (many repeated values);
    with ``large`` either spread over [-1e4, 1e4] or a large common offset plus a small spread."""
    if ties:
        return draw(tensors(shape, dtype, st.integers(-3, 3).map(float)))
    if not large:
        return draw(tensors(shape, dtype, floats(-10.0, 10.0)))
    kind = draw(st.sampled_from(["spread", "offset"]))
    if kind == "spread":
        return draw(tensors(shape, dtype, floats(-LARGE, LARGE)))
    offset = draw(st.sampled_from([-LARGE, -5e3, 5e3, LARGE]))
    small = draw(tensors(shape, torch.float64, floats(-10.0, 10.0)))
    return (small + offset).to(dtype)


@st.composite
def token_ids(draw, shape: tuple[int, ...], vocab: int):
    values = draw(st.lists(st.integers(0, vocab - 1), min_size=math.prod(shape), max_size=math.prod(shape)))
    return torch.tensor(values, dtype=torch.long).reshape(shape)


@st.composite
def logits_and_ids(draw, *, large: bool = False, dtype: torch.dtype | None = None, min_seq: int = 1,
                   max_batch: int = 2, max_seq: int = 4, min_vocab: int = 2, max_vocab: int = 6):
    """``(logits [B, T, V], ids [B, T] int64 in [0, V))``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    seq = draw(st.integers(min_seq, max_seq))
    vocab = draw(st.integers(min_vocab, max_vocab))
    logits = draw(logit_values((batch, seq, vocab), dtype, large=large))
    return logits, draw(token_ids((batch, seq), vocab))


@st.composite
def logit_tensors(draw, *, large: bool = False, ties: bool = False, dtype: torch.dtype | None = None,
                  min_vocab: int = 1, max_vocab: int = 8):
    """Logits of shape [V], [B, V] or [B, T, V]."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    vocab = draw(st.integers(min_vocab, max_vocab))
    lead = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    return draw(logit_values((*lead, vocab), dtype, large=large, ties=ties))


# ----------------------------------------------------------------------------- attention

MASK_KINDS = ("none", "causal", "2d", "batch", "full", "broadcast4d")


def allowed_rows(draw, shape: tuple[int, ...]) -> torch.Tensor:
    """A bool mask of ``shape`` (last axis = keys) in which every row allows at least one key."""
    flat = draw(st.lists(st.booleans(), min_size=math.prod(shape), max_size=math.prod(shape)))
    mask = torch.tensor(flat, dtype=torch.bool).reshape(-1, shape[-1])
    for row in range(mask.shape[0]):
        if not mask[row].any():
            mask[row, draw(st.integers(0, shape[-1] - 1))] = True
    return mask.reshape(shape)


@st.composite
def attention_inputs(draw, *, large: bool = False, dtype: torch.dtype | None = None, mask_kinds=MASK_KINDS,
                     same_length: bool = False):
    """``{"q", "k", "v"[, "mask"]}``: q [B, H, T, d], k [B, H, S, d], v [B, H, S, d_v], a bool mask of some
    broadcastable shape (or none), every query with at least one allowed key.

    ``large``: integer q, k in [-100, 100] with d in {1, 4}, so that the scores (up to 2e4 in absolute value)
    are exact in float32 and float64 whatever the order of the products.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch, heads = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    seq = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(mask_kinds))
    keys = seq if same_length or kind == "causal" or draw(st.booleans()) else draw(st.integers(1, 4))
    if large:
        d = draw(st.sampled_from([1, 4]))
        qk = st.integers(-100, 100).map(float)
    else:
        d = draw(st.integers(1, 3))
        qk = floats(-2.0, 2.0)
    d_v = d if draw(st.booleans()) else draw(st.integers(1, 3))
    out = {"q": draw(tensors((batch, heads, seq, d), dtype, qk)),
           "k": draw(tensors((batch, heads, keys, d), dtype, qk)),
           "v": draw(tensors((batch, heads, keys, d_v), dtype, floats(-5.0, 5.0)))}
    if kind == "causal":
        out["mask"] = torch.ones(seq, seq, dtype=torch.bool).tril()
    elif kind == "2d":
        out["mask"] = allowed_rows(draw, (seq, keys))
    elif kind == "batch":
        out["mask"] = allowed_rows(draw, (batch, 1, seq, keys))
    elif kind == "full":
        out["mask"] = allowed_rows(draw, (batch, heads, seq, keys))
    elif kind == "broadcast4d":
        out["mask"] = allowed_rows(draw, (1, 1, seq, keys))
    return out


def attention_atol(inputs: dict) -> float:
    """Rounding room for attention: an error of eps * |score| in a score moves the output by about that
    much times |v|; scores are at most |q| |k| d / sqrt(d)."""
    q, k, v = inputs["q"], inputs["k"], inputs["v"]
    d = q.shape[-1]
    score_bound = magnitude(q) * magnitude(k) * math.sqrt(d)
    return tolerance_for(q.dtype)[1] * magnitude(v) * max(1.0, score_bound)


# ----------------------------------------------------------------------------- top-p

def sorted_partial_sums(logits: torch.Tensor) -> torch.Tensor:
    """Cumulative probabilities of each row in descending order (float64)."""
    probs = torch.softmax(logits.to(torch.float64), dim=-1)
    return probs.sort(dim=-1, descending=True).values.cumsum(dim=-1)


P_MARGIN = 1e-3
"""Smallest allowed distance between p and any cumulative sum of any row."""


@st.composite
def nucleus_cases(draw, *, ties: bool | None = None, dtype: torch.dtype | None = None):
    """``(logits [..., V], p)`` with p in [0.02, 0.98], at least P_MARGIN away from every partial sum."""
    ties = draw(st.booleans()) if ties is None else ties
    logits = draw(logit_tensors(ties=ties, dtype=dtype, min_vocab=2))
    p = draw(st.floats(0.02, 0.98))
    assume(bool(((sorted_partial_sums(logits) - p).abs() > P_MARGIN).all()))
    return logits, p


# ----------------------------------------------------------------------------- perplexity

@st.composite
def token_logp_batches(draw, *, low: float = -10.0, dtype: torch.dtype | None = None,
                       mask_dtype: torch.dtype | None = None, min_valid: int = 1, junk: float = 20.0):
    """``{"token_logps" [B, T], "mask" [B, T]}``: log-probs in [low, 0] at valid positions, any finite junk
    in [-junk, junk] at padded ones; right-padded masks (rows may be empty)."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch, seq = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    mask = draw(response_masks(batch, seq, dtype=mask_dtype, min_valid=min(min_valid, batch * seq)))
    valid, pad = floats(low, 0.0), floats(-junk, junk)
    values = [draw(valid if keep else pad) for keep in mask.bool().reshape(-1).tolist()]
    token_logps = torch.tensor(values, dtype=torch.float64).to(dtype).reshape(batch, seq)
    return {"token_logps": token_logps, "mask": mask}
