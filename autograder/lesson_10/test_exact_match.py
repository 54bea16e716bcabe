"""Hidden tests for ``exact_match``: 1.0 iff the SQuAD-normalised answers are equal."""

import pytest
from hypothesis import given

from autograder.lesson_10.strategies import answer_pairs
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("exact_match")

CASES = [
    ("The Cat.", "cat", 1.0), ("  an   Apple ", "apple!", 1.0), ("", "The", 1.0), ("", "", 1.0),
    ("Paris, France", "paris france", 1.0), ("the U.S.", "US", 1.0), ("«Ça va»", "«ça va»", 1.0),
    ("cats", "cat", 0.0), ("cat sat", "sat cat", 0.0), ("The cat sat", "cat", 0.0), ("dont", "do not", 0.0),
    ("«a»", "a", 0.0),
]
UNICODE_CASES = [
    ("ÉCOLE", "école", 1.0), ("Ça\u3000va\t", "ça va", 1.0), ("東京 タワー", "東京\xa0タワー", 1.0),
    ("«a»", "a", 0.0), ("straße", "STRASSE", 0.0), ("naïve", "naive", 0.0), ("“the”", "", 0.0),
]


def check_float(got: object, inputs: dict) -> None:
    if type(got) is not float:
        raise AssertionError(f"exact_match should return a Python float (1.0 or 0.0), got {type(got).__name__}: "
                             f"{got!r}\n  inputs: {inputs}")


@pytest.mark.points(2)
@given(pair=answer_pairs())
def test_matches_reference(student, pair):
    """EM matches on random answer pairs, about half of them equal after normalisation (Unicode, empty strings)."""
    pred, gold = pair
    got = student.exact_match(pred, gold)
    check_float(got, {"pred": pred, "gold": gold})
    assert_close(got, ref.exact_match(pred, gold), what="exact match", inputs={"pred": pred, "gold": gold})


@pytest.mark.points(2)
def test_normalised_equality(student):
    """Case, ASCII punctuation, articles and white space do not matter; words, their order and other symbols do."""
    for pred, gold, expected in CASES:
        got = student.exact_match(pred, gold)
        check_float(got, {"pred": pred, "gold": gold})
        assert_close(got, expected, what=f"exact_match({pred!r}, {gold!r})", inputs={"pred": pred, "gold": gold})


@pytest.mark.points(1)
@given(pair=answer_pairs())
def test_symmetric(student, pair):
    """exact_match(pred, gold) == exact_match(gold, pred), and both are right."""
    pred, gold = pair
    expected = ref.exact_match(pred, gold)
    for a, b in ((pred, gold), (gold, pred)):
        got = student.exact_match(a, b)
        check_float(got, {"pred": a, "gold": b})
        assert_close(got, expected, what=f"exact_match({a!r}, {b!r})", inputs={"pred": a, "gold": b})


@pytest.mark.points(1)
def test_unicode_answers(student):
    """Unicode letters are lower-cased and Unicode spaces collapsed; accents, ß and non-ASCII punctuation stay."""
    for pred, gold, expected in UNICODE_CASES:
        got = student.exact_match(pred, gold)
        check_float(got, {"pred": pred, "gold": gold})
        assert_close(got, expected, what=f"exact_match({pred!r}, {gold!r})", inputs={"pred": pred, "gold": gold})
