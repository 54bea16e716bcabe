"""Hidden tests for ``distinct_n``: corpus-level unique / total n-grams of white-space tokens, within texts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograder.lesson_10.strategies import corpora
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("distinct_n")
RTOL, ATOL = 1e-12, 1e-12
ORDERS = st.sampled_from([1, 1, 2, 2, 3, 4])

CASES = [
    (["a b a b", "a b"], 2, 0.5),                     # gluing the texts would add (b, a): 2 / 5
    (["a b", "a b"], 2, 0.5),                         # glued: (a b) (b a) (a b) = 2 / 3
    (["x", "y"], 2, 0.0),                             # no bigram in either text (glued: 1.0)
    (["a a a a", "b c"], 1, 0.5),                     # corpus level 3 / 6 (mean of per-text ratios: 0.625)
    (["a b c", "a b c", "d"], 3, 0.5),
    (["The the THE", "a\tb\nc\xa0d\u3000e"], 1, 1.0),  # case-sensitive; every Unicode white space splits
    (["a  b", " a b "], 2, 0.5),                      # repeated / outer spaces make no empty tokens
]


def check_float(got: object, inputs: dict) -> None:
    if type(got) is not float:
        raise AssertionError(f"distinct_n should return a Python float, got {type(got).__name__}: {got!r}\n"
                             f"  inputs: {inputs}")


@pytest.mark.points(3)
@given(texts=corpora(), n=ORDERS)
def test_matches_reference(student, texts, n):
    """distinct-n matches on random corpora (repeated n-grams, short and empty texts, Unicode white space)."""
    got = student.distinct_n(texts, n)
    check_float(got, {"texts": texts, "n": n})
    assert_close(got, ref.distinct_n(texts, n), rtol=RTOL, atol=ATOL, what=f"distinct-{n}",
                 inputs={"texts": texts, "n": n})


@pytest.mark.points(2)
def test_corpus_level_within_texts(student):
    """n-grams are pooled over the corpus, never span two texts, and tokens are case-sensitive white-space tokens."""
    for texts, n, expected in CASES:
        got = student.distinct_n(texts, n)
        check_float(got, {"texts": texts, "n": n})
        assert_close(got, expected, rtol=RTOL, atol=ATOL, what=f"distinct_n({texts!r}, {n})",
                     inputs={"texts": texts, "n": n})


@pytest.mark.points(1)
def test_no_ngrams_gives_zero(student):
    """Without any n-gram (no texts, empty texts, texts shorter than n) the result is 0.0; one n-gram gives 1.0."""
    for texts, n in (([], 1), ([""], 1), (["", "  "], 2), (["a b", "c"], 3)):
        got = student.distinct_n(texts, n)
        check_float(got, {"texts": texts, "n": n})
        assert_close(got, 0.0, rtol=RTOL, atol=ATOL, what=f"distinct_n({texts!r}, {n})",
                     inputs={"texts": texts, "n": n})
    got = student.distinct_n(["", "a b c"], 3)
    assert_close(got, 1.0, rtol=RTOL, atol=ATOL, what="distinct_n(['', 'a b c'], 3)",
                 inputs={"texts": ["", "a b c"], "n": 3})


@pytest.mark.points(1)
@given(texts=corpora(), n=ORDERS)
def test_order_of_texts_does_not_matter(student, texts, n):
    """Reordering the texts leaves distinct-n unchanged (and right)."""
    expected = ref.distinct_n(texts, n)
    for order in (texts, texts[::-1]):
        got = student.distinct_n(order, n)
        check_float(got, {"texts": order, "n": n})
        assert_close(got, expected, rtol=RTOL, atol=ATOL, what=f"distinct-{n}", inputs={"texts": order, "n": n})
