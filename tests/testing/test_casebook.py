"""The recorded cases stand in for hypothesis only where they are the same cases, and a failure is
still hypothesis' own (found again, shrunk, diagnosed)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rlgrade.course import Course
from rlgrade.grade import GradeOptions, recorded_cases, run_hidden_tests
from rlgrade.release import assignment_questions
from rlgrade.testing import casebook
from rlgrade.testing.student import InProcessBackend, Student
from rlgrade.validate import variant_namespace
from conftest import REPO, forget_hidden_tests, write


@pytest.fixture(autouse=True)
def fresh_autograder():
    forget_hidden_tests()
    yield
    forget_hidden_tests()


class CallLog(InProcessBackend):
    """The reference, noting every call the hidden tests make (function and arguments, as sent)."""

    def __init__(self, namespace: dict):
        super().__init__(namespace)
        self.calls: list[str] = []

    def request(self, message: dict) -> dict:
        self.calls.append(repr({key: message.get(key) for key in ("op", "fn", "args", "kwargs", "grad")}))
        return super().request(message)


def reference_log(course: Course, assignment: str) -> CallLog:
    return CallLog(variant_namespace(course, assignment, {}))


def book_for(course: Course, assignment: str, **options) -> dict:
    book = casebook.loads(recorded_cases(course, assignment, GradeOptions(sandbox=False, **options)))
    forget_hidden_tests()
    return book


def run_fresh(*args, **kwargs):
    outcomes = run_hidden_tests(*args, **kwargs)
    forget_hidden_tests()
    return outcomes


# lesson 3: assume() inside strategies; 6: draws inside test bodies (st.data()); 8: assume() in bodies
@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["lesson_03", "lesson_06", "lesson_08"])
def test_replay_makes_exactly_the_calls_hypothesis_makes(assignment):
    course = Course(REPO)
    book = book_for(course, assignment)
    drawn, replayed = reference_log(course, assignment), reference_log(course, assignment)
    by_hypothesis = run_hidden_tests(course, assignment, Student(drawn))
    by_replay = run_hidden_tests(course, assignment, Student(replayed), cases=book)
    assert sum(len(cases) for cases in book.values()) > 100
    assert len(drawn.calls) > 100 and replayed.calls == drawn.calls
    assert [(o.name, o.outcome) for o in by_replay] == [(o.name, o.outcome) for o in by_hypothesis]


@pytest.mark.slow
def test_recording_the_questions_in_parts_records_the_same_cases():
    course = Course(REPO)
    whole = book_for(course, "lesson_06")
    questions = assignment_questions(course, "lesson_06")
    parts = [casebook.dumps(book_for(course, "lesson_06", questions=tuple(questions[i::2]))) for i in range(2)]
    merged = casebook.loads(casebook.merged(parts))
    assert sorted(merged) == sorted(whole) and len(whole) > 20
    assert all(same(merged[nodeid], whole[nodeid]) for nodeid in whole)


def same(a, b) -> bool:
    """Equal values, tensors compared exactly (dtype, shape, elements; pickles of equal tensors differ)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b


def test_the_course_secret_changes_the_recorded_cases_as_it_changes_hypothesis_inputs(tiny_course):
    plain, secret = book_for(tiny_course, "lesson_01"), book_for(tiny_course, "lesson_01", secret="s3cret")
    [nodeid] = [n for n in plain if n.endswith("test_matches_reference")]
    assert repr(plain[nodeid]) != repr(secret[nodeid])
    for book, key in ((plain, None), (secret, "s3cret")):
        drawn, replayed = reference_log(tiny_course, "lesson_01"), reference_log(tiny_course, "lesson_01")
        run_fresh(tiny_course, "lesson_01", Student(drawn), secret=key)
        run_fresh(tiny_course, "lesson_01", Student(replayed), secret=key, cases=book)
        assert replayed.calls == drawn.calls


def test_only_hypothesis_tests_are_recorded(tiny_course):
    book = book_for(tiny_course, "lesson_01")
    assert [nodeid.split("::")[-1] for nodeid in book] == ["test_matches_reference"]
    assert len(book[next(iter(book))]) == 25  # the grading profile's max_examples


def test_a_failing_case_hands_the_test_to_hypothesis_which_shrinks_it(tiny_course):
    book = book_for(tiny_course, "lesson_01")
    wrong = Student(InProcessBackend({"add_one": lambda x: x + 1 + (x > 3).to(x.dtype), "scale": lambda x, k=2.0: x * k}))
    [outcome] = [o for o in run_hidden_tests(tiny_course, "lesson_01", wrong, cases=book)
                 if o.name == "test_matches_reference"]
    assert outcome.outcome == "failed"
    assert "Failing test case" in outcome.message and "x=tensor([4.]," in outcome.message  # shrunk: one element, the simplest float > 3


DRAWS_FROM_THE_ANSWER = '''
import pytest
import torch
from hypothesis import given, strategies as st

pytestmark = pytest.mark.question("add_one")


@given(n=st.integers(1, 3), data=st.data())
def test_draws_depend_on_the_answer(student, n, data):
    """The second draw's range comes from the student's answer."""
    got = student.add_one(torch.zeros(n))
    k = data.draw(st.integers(0, int(got.sum())))
    assert 0 <= k <= n
'''


def test_a_body_that_draws_differently_from_the_recording_is_left_to_hypothesis(tiny_course):
    write(tiny_course.tests_dir("lesson_01") / "test_draws.py", DRAWS_FROM_THE_ANSWER)
    book = book_for(tiny_course, "lesson_01")
    nodeid = next(n for n in book if n.endswith("test_draws_depend_on_the_answer"))
    assert all(case.draws and case.data_name == "data" for case in book[nodeid])
    doubled = Student(CallLog({"add_one": lambda x: x + 2, "scale": lambda x, k=2.0: x * k}))
    [outcome] = [o for o in run_hidden_tests(tiny_course, "lesson_01", doubled, cases=book,
                                             questions=("add_one",)) if o.name == "test_draws_depend_on_the_answer"]
    assert outcome.outcome == "failed" and "Failing test case" in outcome.message  # hypothesis ran it


DISCARDS_AFTER_A_CALL = '''
import pytest
import torch
from hypothesis import assume, given, strategies as st

pytestmark = pytest.mark.question("add_one")


@given(n=st.integers(1, 3), data=st.data())
def test_calls_then_discards(student, n, data):
    """Calls the student, then draws with a filter hypothesis often gives up on, or assumes."""
    got = student.add_one(torch.zeros(n))
    k = data.draw(st.integers(0, 100).filter(lambda k: k % 7 == 0), label="k")
    assume(k != 0)
    assert got.shape == (n,)
'''


def test_discarded_cases_are_replayed_up_to_where_hypothesis_stopped(tiny_course):
    write(tiny_course.tests_dir("lesson_01") / "test_discards.py", DISCARDS_AFTER_A_CALL)
    book = book_for(tiny_course, "lesson_01", questions=("add_one",))
    cases = next(cases for nodeid, cases in book.items() if nodeid.endswith("test_calls_then_discards"))
    assert any(case.rejected and case.stopped_at for case in cases)  # by the filtered draw
    assert any(case.rejected and not case.stopped_at for case in cases)  # by assume()
    drawn, replayed = reference_log(tiny_course, "lesson_01"), reference_log(tiny_course, "lesson_01")
    run_fresh(tiny_course, "lesson_01", Student(drawn), questions=("add_one",))
    run_fresh(tiny_course, "lesson_01", Student(replayed), questions=("add_one",), cases=book)
    assert replayed.calls == drawn.calls
