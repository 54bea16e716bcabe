"""Hidden tests for ``normalize_answer``: SQuAD v1.1 order (lower, ASCII punctuation, articles, white space)."""

import pytest
from hypothesis import given

from autograder.lesson_10.strategies import answer_texts
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("normalize_answer")

ORDER_CASES = [
    ("The Cat's  hat!", "cats hat"),
    ("th.e end", "end"),                     # punctuation goes first, then the article
    ("a-n apple", "apple"),
    ("_the_ x", "x"),                        # "_" is ASCII punctuation (and a word character for \b)
    ("don't stop", "dont stop"),             # deleted, not replaced by a space
    ("U.S.A. wins", "usa wins"),
    ("Theater, an APPLE and a banana", "theater apple and banana"),
    ("the", ""),
    ("A an THE", ""),
    ("the.the", "thethe"),                   # deleting the dot glues two articles into a word
    ("another anna thee", "another anna thee"),
]
UNICODE_CASES = [
    ("“the” end", "“ ” end"),                # non-ASCII quotes stay; the article between them becomes a space
    ("«Ça\u00a0va»\tthe\u3000end", "«ça va» end"),
    ("¿An apple?", "¿ apple"),
    ("ÉCOLE\u2003NORMALE", "école normale"),
    ("東京 the タワー", "東京 タワー"),
    ("naïve—the end", "naïve— end"),          # the em dash is kept and is not a word character
    ("ΣΟΦΙΑ a", "σοφια"),
    ("🙂 a 🙂", "🙂 🙂"),
    ("Straße STRASSE", "straße strasse"),    # lower(), not casefold()
]


@pytest.mark.points(3)
@given(text=answer_texts())
def test_matches_reference(student, text):
    """Normalised strings match on random answers (articles glued to punctuation, Unicode, empty strings)."""
    assert_close(student.normalize_answer(text), ref.normalize_answer(text), what="the normalised answer",
                 inputs={"s": text})


@pytest.mark.points(2)
def test_squad_order(student):
    """The steps run in SQuAD's order: lower-case, delete ASCII punctuation, articles to spaces, collapse spaces."""
    for text, expected in ORDER_CASES:
        assert_close(student.normalize_answer(text), expected, what=f"normalize_answer({text!r})", inputs={"s": text})


@pytest.mark.points(1)
def test_unicode_punctuation_and_white_space(student):
    """Non-ASCII punctuation is kept, Unicode letters are lower-cased and Unicode white space is collapsed."""
    for text, expected in UNICODE_CASES:
        assert_close(student.normalize_answer(text), expected, what=f"normalize_answer({text!r})", inputs={"s": text})


@pytest.mark.points(1)
def test_empty_and_blank_strings(student):
    """Empty, blank and article-only strings normalise to "", while a real answer keeps its words."""
    for text in ("", " ", "\t\n", "\u3000\xa0", "!?.", " the a "):
        assert_close(student.normalize_answer(text), "", what=f"normalize_answer({text!r})", inputs={"s": text})
    assert_close(student.normalize_answer(" An  Answer. "), "answer", what="normalize_answer(' An  Answer. ')",
                 inputs={"s": " An  Answer. "})
