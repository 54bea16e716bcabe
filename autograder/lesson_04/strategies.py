"""Lesson-4 strategies: SFT batches with loss masks, reward pairs, rankings, Elo games and score vectors.

Shapes stay tiny (B <= 3, T <= 5, V <= 6, N <= 8, rankings of at most 7 items). Inputs respect the
problem-set preconditions: token ids lie in [0, V); ranking ids are distinct (and lie in [0, n_items) for
``elo_from_ranking``); Elo ratings stay in a realistic range (0 to 3000).
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from rlgrade.testing import tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

LARGE = 1e4
"""Largest |logit| / |reward margin| the numerical-stability convention asks for."""
K_FACTORS = (32.0, 16.0, 10.0, 4.0, 40.0)
SCORES = (1.0, 0.5, 0.0)
EXACT_SCORES = (-3.0, -0.5, 0.0, 0.25, 1.0, 2.0, 7.0)
"""Exactly representable values for all-equal score vectors."""


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


def rounding_atol(dtype: torch.dtype, *xs: torch.Tensor) -> float:
    """Rounding room for results built from inputs as large as ``magnitude(xs)``: two correct forms
    (log_softmax + gather vs cross_entropy, logsigmoid vs softplus) differ by a few ulps of them."""
    return max(tolerance_for(dtype)[1], 16 * torch.finfo(dtype).eps * magnitude(*xs))


def assert_finite_where_expected(got: object, expected: torch.Tensor, what: str, inputs: dict, hint: str) -> None:
    """Fail with a message naming overflow / NaN when ``got`` is not finite where the exact answer is."""
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
        return  # assert_close explains type and shape problems
    bad = ~torch.isfinite(got.detach().to(torch.float64)) & torch.isfinite(expected.to(torch.float64))
    if bad.any():
        index = tuple(int(i) for i in torch.nonzero(bad)[0].tolist())
        value = got[index].item() if got.dim() else got.item()
        raise AssertionError(
            f"{what} is not finite: got {value!r} where {expected[index].item()!r} is expected "
            f"({int(bad.sum())} of {bad.numel()} entries overflowed or became NaN). {hint}\n  inputs: {inputs}")


# ----------------------------------------------------------------------------- SFT

@st.composite
def loss_masks(draw, batch: int, seq: int, dtype: torch.dtype | None = None, min_counted: int = 0):
    """[B, T] 0/1 masks: per row either any 0/1 pattern or prompt zeros, response ones, padding zeros.

    ``min_counted`` > 0 makes sure that many targets (positions 1..T-1) are marked in the batch (when T > 1).
    """
    rows = []
    for _ in range(batch):
        if draw(st.booleans()):
            rows.append(draw(st.lists(st.booleans(), min_size=seq, max_size=seq)))
        else:
            prompt = draw(st.integers(0, seq))
            response = draw(st.integers(0, seq - prompt))
            rows.append([prompt <= t < prompt + response for t in range(seq)])
    mask = torch.tensor(rows, dtype=torch.bool).reshape(batch, seq)
    if seq > 1:
        missing = min_counted - int(mask[:, 1:].sum())
        flat = mask[:, 1:].reshape(-1).clone()
        for i in range(flat.numel()):
            if missing <= 0:
                break
            if not flat[i]:
                flat[i] = True
                missing -= 1
        mask[:, 1:] = flat.reshape(batch, seq - 1)
    dtype = dtype if dtype is not None else draw(st.sampled_from([torch.bool, torch.float32, torch.float64]))
    return mask.to(dtype)


@st.composite
def logit_values(draw, shape: tuple[int, ...], dtype: torch.dtype, *, large: bool = False):
    """Logits in [-10, 10]; with ``large`` spread over [-1e4, 1e4] or a large offset plus a small spread."""
    if not large:
        return draw(tensors(shape, dtype, floats(-10.0, 10.0)))
    if draw(st.booleans()):
        return draw(tensors(shape, dtype, floats(-LARGE, LARGE)))
    offset = draw(st.sampled_from([-LARGE, -5e3, 5e3, LARGE]))
    return (draw(tensors(shape, torch.float64, floats(-10.0, 10.0))) + offset).to(dtype)


@st.composite
def sft_batches(draw, *, large: bool = False, dtype: torch.dtype | None = None, mask_dtype: torch.dtype | None = None,
                min_counted: int = 0, min_seq: int = 1, max_batch: int = 3, max_seq: int = 5, max_vocab: int = 6):
    """``{"logits" [B, T, V], "input_ids" [B, T], "loss_mask" [B, T]}``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    seq = draw(st.integers(max(min_seq, 2 if min_counted else 1), max_seq))
    vocab = draw(st.integers(2, max_vocab))
    logits = draw(logit_values((batch, seq, vocab), dtype, large=large))
    ids = draw(st.lists(st.integers(0, vocab - 1), min_size=batch * seq, max_size=batch * seq))
    return {"logits": logits, "input_ids": torch.tensor(ids, dtype=torch.long).reshape(batch, seq),
            "loss_mask": draw(loss_masks(batch, seq, mask_dtype, min_counted))}


def counted(batch: dict) -> int:
    return int(batch["loss_mask"][:, 1:].bool().sum())


# ----------------------------------------------------------------------------- rewards

@st.composite
def reward_pairs(draw, *, large: bool = False, dtype: torch.dtype | None = None, max_batch: int = 5):
    """``{"chosen_rewards" [B], "rejected_rewards" [B]}``; ``large``: margins up to 1e4 in absolute value
    (rewards spread over [-5e3, 5e3]) or both rewards near ±1e4."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    batch = draw(st.integers(1, max_batch))
    if large and draw(st.booleans()):
        offset = draw(st.sampled_from([-LARGE, LARGE]))
        chosen = (draw(tensors((batch,), torch.float64, floats(-20.0, 20.0))) + offset).to(dtype)
        rejected = (draw(tensors((batch,), torch.float64, floats(-20.0, 20.0))) + offset).to(dtype)
    else:
        bound = LARGE / 2 if large else 10.0
        chosen = draw(tensors((batch,), dtype, floats(-bound, bound)))
        rejected = draw(tensors((batch,), dtype, floats(-bound, bound)))
    return {"chosen_rewards": chosen, "rejected_rewards": rejected}


@st.composite
def reward_tensors(draw, *, large: bool = False, dtype: torch.dtype | None = None):
    """``(r_a, r_b)`` of one shape: (), (N,) or (B, N); ``large``: rewards up to ±1e4."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shape = draw(st.sampled_from([(), (1,), (4,), (2, 3)]))
    bound = LARGE if large else 10.0
    return draw(tensors(shape, dtype, floats(-bound, bound))), draw(tensors(shape, dtype, floats(-bound, bound)))


# ----------------------------------------------------------------------------- rankings and Elo

def rankings(max_items: int = 7, max_id: int = 20) -> st.SearchStrategy[list[int]]:
    """Distinct item ids in any order, best first (possibly empty)."""
    return st.lists(st.integers(0, max_id), unique=True, max_size=max_items)


def as_pairs(got: object, what: str) -> list[tuple]:
    """The student's pairs as a list of tuples (lists of two are read as pairs here; the type test is separate)."""
    if not isinstance(got, (list, tuple)):
        raise AssertionError(f"{what} should be a list of (winner, loser) tuples, got {type(got).__name__}: {got!r}")
    pairs = []
    for pair in got:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise AssertionError(f"{what}: every element should be a (winner, loser) pair, got {pair!r} in {got!r}")
        pairs.append(tuple(pair))
    return pairs


def ratings() -> st.SearchStrategy[float]:
    """Realistic Elo ratings in [0, 3000], exactly representable in float32 (readable when shrunk)."""
    return st.floats(0.0, 3000.0, width=32)


@st.composite
def elo_games(draw):
    """``{"r_a", "r_b", "score_a", "k"}`` as Python floats."""
    return {"r_a": draw(ratings()), "r_b": draw(ratings()), "score_a": draw(st.sampled_from(SCORES)),
            "k": draw(st.sampled_from(K_FACTORS))}


@st.composite
def ranked_items(draw, *, min_ranked: int = 0):
    """``{"ranking", "n_items", "k", "initial"}``: a ranking of a subset of range(n_items), in any order."""
    n_items = draw(st.integers(max(1, min_ranked), 7))
    ranking = draw(st.permutations(range(n_items)))
    size = draw(st.integers(min(min_ranked, n_items), n_items))
    return {"ranking": list(ranking[:size]), "n_items": n_items, "k": draw(st.sampled_from(K_FACTORS)),
            "initial": draw(st.sampled_from([1000.0, 1500.0, 0.0, 1200.5]))}


def assert_float_list(got: object, length: int, what: str) -> None:
    if type(got) is not list:
        raise AssertionError(f"{what} should be a Python list of {length} floats, got {type(got).__name__}: {got!r}")
    if len(got) != length:
        raise AssertionError(f"{what} should have {length} ratings (one per item id), got {len(got)}: {got!r}")
    wrong = [x for x in got if type(x) is not float]
    if wrong:
        raise AssertionError(f"{what}: every rating must be a Python float, got {type(wrong[0]).__name__} "
                             f"{wrong[0]!r} in {got!r}")


# ----------------------------------------------------------------------------- scores

@st.composite
def score_vectors(draw, *, dtype: torch.dtype | None = None, constant: bool = True, min_size: int = 1):
    """[N] scores: all equal (exact values, N = 1 included), on a grid of quarters, or spread-out floats.

    Nearly-equal (but not equal) scores are left out: (s - min) / (max - min) is ill-conditioned there.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n = draw(st.integers(min_size, 8))
    kind = draw(st.sampled_from(("constant", "grid", "float") if constant else ("grid", "float")))
    if kind == "constant" or n == 1:
        if not constant:
            n = max(n, 2)
            values = [draw(st.sampled_from(EXACT_SCORES))] * (n - 1) + [draw(st.sampled_from((11.0, -9.0)))]
        else:
            values = [draw(st.sampled_from(EXACT_SCORES))] * n
    elif kind == "grid":
        values = [k / 4 for k in draw(st.lists(st.integers(-40, 40), min_size=n, max_size=n)
                                      .filter(lambda ks: len(set(ks)) > 1))]
    else:
        values = draw(st.lists(floats(-1e3, 1e3), min_size=n, max_size=n)
                      .filter(lambda vs: max(vs) - min(vs) > 1e-2 * max(1.0, max(abs(v) for v in vs))))
    return torch.tensor(values, dtype=torch.float64).to(dtype)


def score_atol(scores: torch.Tensor) -> float:
    """(s - min) / (max - min): rounding of s - min relative to the range."""
    x = scores.to(torch.float64)
    spread = float(x.max() - x.min()) if x.numel() else 0.0
    dtype = scores.dtype if scores.is_floating_point() else torch.float32
    if spread == 0.0:
        return tolerance_for(dtype)[1]
    return max(tolerance_for(dtype)[1], 8 * torch.finfo(dtype).eps * magnitude(scores) / spread)
