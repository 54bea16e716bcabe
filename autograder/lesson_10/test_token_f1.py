"""Hidden tests for ``token_f1``: SQuAD F1 over the multisets of normalised tokens."""

import pytest
from hypothesis import given

from autograder.lesson_10.strategies import answer_pairs
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("token_f1")
RTOL, ATOL = 1e-12, 1e-12

MULTISET_CASES = [
    ("cat cat cat", "cat", 0.5),                     # one shared "cat": P = 1/3, R = 1
    ("the cat the cat", "cat cat dog", 0.8),          # [cat, cat] vs [cat, cat, dog]: P = 1, R = 2/3
    ("a b b c", "b b b a", 2 / 3),                    # "a" is an article: [b, b, c] vs [b, b, b], common 2
    ("x y", "y x", 1.0),                              # order does not matter
    ("New York", "new-york", 0.0),                    # "newyork" shares no token with "new", "york"
]
EMPTY_CASES = [("", ""), ("", "cat"), ("cat", ""), ("The!", "a"), ("\u3000", "the"), ("dog", "cat")]


def check_float(got: object, inputs: dict) -> None:
    if type(got) is not float:
        raise AssertionError(f"token_f1 should return a Python float, got {type(got).__name__}: {got!r}\n"
                             f"  inputs: {inputs}")


@pytest.mark.points(3)
@given(pair=answer_pairs())
def test_matches_reference(student, pair):
    """F1 matches on random answer pairs (partial overlaps, repeated tokens, Unicode, empty strings)."""
    pred, gold = pair
    got = student.token_f1(pred, gold)
    check_float(got, {"pred": pred, "gold": gold})
    assert_close(got, ref.token_f1(pred, gold), rtol=RTOL, atol=ATOL, what="token F1",
                 inputs={"pred": pred, "gold": gold})


@pytest.mark.points(1)
def test_multiset_overlap(student):
    """Repeated tokens count as often as they occur in both answers (Counter intersection, not sets)."""
    for pred, gold, expected in MULTISET_CASES:
        got = student.token_f1(pred, gold)
        check_float(got, {"pred": pred, "gold": gold})
        assert_close(got, expected, rtol=RTOL, atol=ATOL, what=f"token_f1({pred!r}, {gold!r})",
                     inputs={"pred": pred, "gold": gold})


@pytest.mark.points(1)
def test_no_common_token_gives_zero(student):
    """No common token gives 0.0, also when one or both answers normalise to ""; one shared word gives 1.0."""
    for pred, gold in EMPTY_CASES:
        got = student.token_f1(pred, gold)
        check_float(got, {"pred": pred, "gold": gold})
        assert_close(got, 0.0, rtol=RTOL, atol=ATOL, what=f"token_f1({pred!r}, {gold!r})",
                     inputs={"pred": pred, "gold": gold})
    got = student.token_f1("The dog.", "dog")
    assert_close(got, 1.0, rtol=RTOL, atol=ATOL, what="token_f1('The dog.', 'dog')",
                 inputs={"pred": "The dog.", "gold": "dog"})


@pytest.mark.points(1)
@given(pair=answer_pairs())
def test_symmetric(student, pair):
    """F1 is symmetric in pred and gold (precision and recall swap), and both values are right."""
    pred, gold = pair
    expected = ref.token_f1(pred, gold)
    for a, b in ((pred, gold), (gold, pred)):
        got = student.token_f1(a, b)
        check_float(got, {"pred": a, "gold": b})
        assert_close(got, expected, rtol=RTOL, atol=ATOL, what=f"token_f1({a!r}, {b!r})", inputs={"pred": a, "gold": b})
