"""Lesson-10 strategies: pass@k counts, bootstrap samples, pairwise outcomes, win matrices and answer texts.

Answer texts mix words built to trip each step of the SQuAD normalisation (articles glued to
ASCII punctuation, articles inside words, non-ASCII punctuation and white space, case that
only Unicode lower-cases) with arbitrary Unicode text and empty strings.
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch
from hypothesis import strategies as st

from rlgrade.testing.strategies import float_dtypes, floats

MAX_N = 12
EXACT_SCORES = (-2.0, 0.0, 0.5, 1.0, 3.25)
"""Exactly representable scores: the mean of any resample of copies of one of them is exactly it."""


def exact_pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k) as an exact rational, rounded once to a float."""
    if n - c < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


@st.composite
def pass_counts(draw, max_n: int = 200):
    """(n, c, k) with 1 <= k <= n, 0 <= c <= n; c and k near their edges often."""
    n = draw(st.integers(1, max_n))
    c = draw(st.one_of(st.integers(0, n), st.sampled_from([0, 1, n - 1, n]).filter(lambda v: 0 <= v <= n)))
    k = draw(st.one_of(st.integers(1, n), st.sampled_from([1, 2, n - c, n - c + 1, n]).filter(lambda v: 1 <= v <= n)))
    return n, c, k


@st.composite
def score_vectors(draw, *, dtype: torch.dtype | None = None, min_size: int = 1, max_size: int = MAX_N):
    """[N] per-item scores: 0/1 correctness, judge scores on a grid, or arbitrary floats."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    size = draw(st.integers(min_size, max_size))
    kind = draw(st.sampled_from(["binary", "grid", "float"]))
    if kind == "binary":
        values = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=size, max_size=size))
    elif kind == "grid":
        values = draw(st.lists(st.integers(0, 10), min_size=size, max_size=size))
    else:
        values = draw(st.lists(floats(-5.0, 5.0), min_size=size, max_size=size))
    return torch.tensor(values, dtype=torch.float64).to(dtype)


def generator(seed: int) -> torch.Generator:
    """A fresh CPU generator: the student and the reference each get their own with the same seed."""
    return torch.Generator().manual_seed(seed)


SEEDS = st.integers(0, 2**31 - 1)
RESAMPLES = st.sampled_from([1, 2, 7, 50, 200])
CONFIDENCES = st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99])


@st.composite
def outcome_vectors(draw, *, dtype: torch.dtype | None = None, ties: bool = True):
    """[N] pairwise outcomes in {1, 0.5, 0} (float) or {1, 0} (int64 when ``dtype`` is int64)."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    size = draw(st.integers(1, MAX_N))
    choices = [0.0, 0.5, 1.0] if ties else [0.0, 1.0]
    values = draw(st.lists(st.sampled_from(choices), min_size=size, max_size=size))
    return torch.tensor(values, dtype=torch.float64).to(dtype)


@st.composite
def score_pairs(draw, *, dtype: torch.dtype | None = None, large: bool = False):
    """``chosen_scores`` and ``rejected_scores`` [N]: many exact ties, and close or far-apart scores."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    size = draw(st.integers(1, MAX_N))
    scale = 1e4 if large else 1.0
    chosen = draw(st.lists(floats(-5.0, 5.0), min_size=size, max_size=size))
    rejected = [draw(st.one_of(st.just(c), floats(-5.0, 5.0))) for c in chosen]  # a tie half of the time
    as_tensor = lambda v: (torch.tensor(v, dtype=torch.float64) * scale).to(dtype)
    return {"chosen_scores": as_tensor(chosen), "rejected_scores": as_tensor(rejected)}


@st.composite
def win_matrices(draw, *, dtype=None, max_players: int = 5, max_count: int = 20):
    """[M, M] win counts with a zero diagonal whose beat graph is strongly connected.

    Every ordered pair gets a count in [0, max_count] (0 a quarter of the time), then a random
    Hamiltonian cycle i_0 -> i_1 -> ... -> i_0 of wins >= 1 makes the graph strongly connected.
    ``dtype`` is drawn from int64 / float32 / float64 unless given.
    """
    dtype = dtype if dtype is not None else draw(st.sampled_from([torch.int64, torch.float32, torch.float64]))
    m = draw(st.integers(2, max_players))
    counts = [[0 if i == j else draw(st.one_of(st.just(0), st.integers(1, max_count), st.integers(1, max_count),
                                               st.integers(1, max_count)))
               for j in range(m)] for i in range(m)]
    order = draw(st.permutations(list(range(m))))
    for a, b in zip(order, order[1:] + order[:1]):
        counts[a][b] = max(counts[a][b], draw(st.integers(1, max_count)))
    return torch.tensor(counts, dtype=torch.float64).to(dtype)


def log_strength_vectors(m: int, spread: float = 1.5):
    """True log-strengths theta [M] in [-spread, spread], centred to mean 0 (float64)."""
    return st.lists(floats(-spread, spread), min_size=m, max_size=m).map(
        lambda v: torch.tensor(v, dtype=torch.float64) - torch.tensor(v, dtype=torch.float64).mean())


def expected_wins(theta: torch.Tensor, games: float) -> torch.Tensor:
    """wins[i, j] = games * sigmoid(theta_i - theta_j), zero diagonal: data whose MLE is exactly exp(theta)."""
    wins = games * torch.sigmoid(theta[:, None] - theta[None, :])
    return wins * (1 - torch.eye(theta.shape[0], dtype=wins.dtype))


def bt_standard_errors(theta: torch.Tensor, games: float) -> torch.Tensor:
    """Asymptotic standard errors of the mean-0 log-strength MLE: sqrt(diag(pinv(Fisher information)))."""
    p = torch.sigmoid(theta[:, None] - theta[None, :])
    info = games * p * (1 - p) * (1 - torch.eye(theta.shape[0], dtype=theta.dtype))
    laplacian = torch.diag(info.sum(dim=1)) - info
    return torch.linalg.pinv(laplacian).diagonal().sqrt()


# Words aimed at each normalisation step; the empty word makes doubled separators.
WORDS = (
    "the", "The", "THE", "a", "A", "an", "An", "aN", "cat", "Cat", "CATS", "theater", "another", "banana", "anna",
    "a.", "th.e", "a-n", "(the)", "_the", "the_", "an_", "x_a", "a1", "1a", "don't", "U.S.A.", "42", "3.14",
    "São", "PAULO", "ÉCOLE", "straße", "İstanbul", "naïve", "東京", "“the”", "«a»", "¿an?", "—", "…", "the’s",
    "ǅ", "ΣΟΦΙΑ", "x²", "🙂", "!!", "...", "&", "",
)
SEPARATORS = (" ", " ", " ", "  ", "\t", "\n", "\xa0", "\u3000", "\u2003", "-", ",", ".", "")


@st.composite
def answer_texts(draw, max_words: int = 6):
    """A short answer: words and separators from the lists above, or arbitrary Unicode text (often empty)."""
    kind = draw(st.sampled_from(["words", "words", "words", "unicode", "empty"]))
    if kind == "empty":
        return draw(st.sampled_from(["", " ", "\t\n", "\u3000"]))
    if kind == "unicode":
        return draw(st.text(max_size=12))
    words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=max_words))
    out = draw(st.sampled_from(SEPARATORS[:4] + ("",)))
    for word in words:
        out += word + draw(st.sampled_from(SEPARATORS))
    return out


def variants_of(text: str):
    """Texts that differ from ``text`` only in what the normalisation removes (case, punctuation,
    articles, white space) — so that matching pairs are common."""
    return st.sampled_from([
        text, text.upper(), text.lower(), f"The {text}.", f"  {text}!\t", text.replace(" ", "  "),
        f"a {text}", f"{text} an", text.replace(" ", "\xa0"),
    ])


@st.composite
def answer_pairs(draw):
    """(pred, gold): independent texts, or a text and a normalisation-equivalent variant of it."""
    gold = draw(answer_texts())
    if draw(st.booleans()):
        return draw(variants_of(gold)), gold
    return draw(answer_texts()), gold


@st.composite
def corpora(draw, max_texts: int = 4):
    """A list of generations (white-space separated tokens from a small vocabulary, so n-grams repeat)."""
    vocabulary = st.sampled_from(["a", "b", "c", "A", "the", "The", "x", "é", "東", "🙂", "a.", ""])
    separators = st.sampled_from([" ", " ", "  ", "\t", "\n", "\xa0", "\u3000"])
    texts = []
    for _ in range(draw(st.integers(0, max_texts))):
        out = draw(st.sampled_from(["", " "]))
        for _ in range(draw(st.integers(0, 7))):
            out += draw(vocabulary) + draw(separators)
        texts.append(out)
    return texts
