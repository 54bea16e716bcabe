"""``--rlgrade-shrink``: which failing property tests hypothesis shrinks; scores never depend on it."""

from __future__ import annotations

import pytest

from rlgrade.cli import Shrink
from rlgrade.grade import GradeOptions, grading_key, run_hidden_tests
from rlgrade.testing.plugin import SHRINK_MODES
from rlgrade.testing.student import InProcessBackend, Student
from conftest import forget_hidden_tests, write

SECOND_TEST = '''
import pytest
import torch
from hypothesis import given, strategies as st

from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("add_one")


@given(x=st.integers(1, 4).flatmap(lambda n: tensors((n,), torch.float64)))
def test_again(student, x):
    """add_one, checked a second time."""
    assert_close(student.add_one(x), ref.add_one(x), inputs={"x": x})
'''
SHRUNK = "x=tensor([4.], dtype=torch.float64)"
"""The smallest input on which the wrong answer below fails (one element, the simplest float above 3)."""


def wrong_above_three(x):
    return x + 1 + (x > 3).to(x.dtype)


@pytest.fixture
def course(tiny_course):
    write(tiny_course.tests_dir("lesson_01") / "test_add_one_again.py", SECOND_TEST)
    yield tiny_course
    forget_hidden_tests()  # the next test's course has its own hidden tests


def failures(course, shrink: str) -> dict[str, str]:
    student = Student(InProcessBackend({"add_one": wrong_above_three, "scale": lambda x, k=2.0: x * k}))
    outcomes = run_hidden_tests(course, "lesson_01", student, shrink=shrink, questions=("add_one",))
    return {o.name: o.message for o in outcomes if o.outcome == "failed"}


@pytest.mark.parametrize("shrink, shrunk", [("first", ["test_matches_reference"]),
                                            ("all", ["test_again", "test_matches_reference"]),
                                            ("none", [])])
def test_shrink_mode_decides_which_failures_are_shrunk(course, shrink, shrunk):
    failed = failures(course, shrink)
    assert sorted(failed) == ["test_again", "test_matches_reference"]  # the same failures, whatever the mode
    assert sorted(name for name, message in failed.items() if SHRUNK in message) == shrunk
    assert all("Failing test case" in message for message in failed.values())


def test_the_shrink_mode_is_part_of_the_grading_key(tiny_course):
    keys = {grading_key(tiny_course, "lesson_01", GradeOptions(shrink=mode)) for mode in SHRINK_MODES}
    assert len(keys) == len(SHRINK_MODES)  # a rerun in another mode grades again: its counterexamples differ


def test_an_unknown_shrink_mode_is_refused_before_grading():
    with pytest.raises(ValueError, match="choose one of first, all, none"):
        GradeOptions(shrink="frist")


def test_the_cli_offers_the_plugins_shrink_modes():
    assert tuple(mode.value for mode in Shrink) == SHRINK_MODES
