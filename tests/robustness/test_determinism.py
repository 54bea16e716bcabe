"""Determinism: the same submission gets the same scores and messages, however often and on however
many workers it is graded; the course secret decides which inputs the hidden tests draw."""

from __future__ import annotations

from dataclasses import replace

from conftest import needs_sandbox, submission
from rlgrade.grade import GradeOptions, grade
from rlgrade.sandbox import Limits

pytestmark = needs_sandbox

# wrong only for some inputs (so hypothesis has to search and shrink), and it prints what it is
# given: the output shows which inputs the hidden tests drew
FLAKY_LOOKING = """
import torch
def add_one(x):
    print("got", x.tolist())
    return x + 1 if x.numel() < 3 or x[0] < 0.5 else x + 1.001
def scale(x, k=2.0):
    return k * x
"""
FAST = GradeOptions(limits=Limits(call_seconds=5), submission_seconds=120, secret=None)


def graded(course, tmp_path, name, *, workers=1, copies=1, options=FAST):
    subs = tmp_path / name
    for i in range(copies):
        submission(subs, f"student{i}", FLAKY_LOOKING)
    report = grade(course, "lesson_01", [subs], gradebook_url=f"sqlite:///{tmp_path}/{name}.db", workers=workers,
                   options=options)
    return report.results


def verdict(result) -> dict:
    """Everything a student or TA is told, without who and when."""
    data = result.to_json()
    return {k: data[k] for k in ("score", "max_score", "status", "error", "warnings", "questions")}


def test_five_gradings_and_two_workers_give_identical_scores_and_messages(tiny_course, tmp_path):
    runs = [graded(tiny_course, tmp_path, f"run{i}")[0] for i in range(5)]
    first = verdict(runs[0])
    assert first["questions"]["add_one"]["score"] < first["questions"]["add_one"]["max_score"]  # it did fail
    assert all(verdict(r) == first for r in runs[1:])
    parallel = graded(tiny_course, tmp_path, "parallel", workers=2, copies=3)
    assert [verdict(r) for r in parallel] == [first] * 3
    assert len({r.output for r in runs + list(parallel)}) == 1  # the very same inputs, in the same order


def test_the_course_secret_decides_the_inputs(tiny_course, tmp_path):
    def inputs(secret, name):
        return graded(tiny_course, tmp_path, name, options=replace(FAST, secret=secret))[0].output

    with_a, with_b = inputs("semester-a", "a"), inputs("semester-b", "b")
    assert "got" in with_a and "got" in with_b and with_a != with_b
    # (that one secret always draws the same inputs is the test above, run with the secret unset)
