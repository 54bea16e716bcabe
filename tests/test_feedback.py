"""Feedback pages: what a student may see, and the leak check that nothing hidden gets out."""

import re

import pytest

from browser import load_page, needs_chromium
from conftest import REPO, TEST_ADD_ONE, needs_sandbox, submission
from rlgrade.feedback import feedback, safe_name
from rlgrade.grade import GradeOptions, grade
from rlgrade.gradebook import Gradebook
from rlgrade.sandbox import Limits

pytestmark = needs_sandbox

ADDS_TWO = "import torch\ndef add_one(x):\n    return x + 2\ndef scale(x, k=2.0):\n    return k * x\n"
FAST = GradeOptions(limits=Limits(call_seconds=3), submission_seconds=60)


@pytest.fixture
def graded(tiny_course, tmp_path):
    """bob adds two (a known misconception), grace submitted the untouched stub, frank a broken file."""
    subs = tmp_path / "subs"
    submission(subs, "bob", ADDS_TWO)
    (subs / "frank.ipynb").write_text('{"cells": [', encoding="utf-8")  # an upload cut short
    (subs / "grace.ipynb").write_bytes(tiny_course.release_notebook("lesson_01").read_bytes())
    url = f"sqlite:///{tmp_path}/gb.db"
    grade(tiny_course, "lesson_01", [subs], gradebook_url=url, options=FAST)
    return Gradebook(url)


def secrets_of(course, gradebook) -> list[str]:
    """Lines a student must never see: hidden-test code and names, reference code, expected values."""
    hidden = [line.strip() for path in course.autograder.rglob("*.py") for line in path.read_text().splitlines()
              if len(line.strip()) > 12 and not line.strip().startswith(("import", "from", '"""', "#", "@pytest"))]
    hidden += re.findall(r"def (test_\w+)", TEST_ADD_ONE)
    reference = [line.strip() for line in course.solution_module("lesson_01").read_text().splitlines()
                 if line.strip().startswith("return")]
    expected = [t.detail["expected"] for r in gradebook.current_results("lesson_01") for q in r.questions.values()
                for t in q.tests if t.detail and len(t.detail.get("expected", "")) > 8]
    return hidden + reference + expected


def test_feedback_gives_scores_titles_and_the_misconception_as_a_hint(graded, tmp_path):
    [bob] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb") if p.stem == "bob"]
    html = bob.read_text()
    assert "Score: 3 / 6" in html
    assert "add_one adds one to every element." in html  # the hidden test's title
    assert "hint: this looks like a known mistake: adds two" in html
    assert "public examples" in html.lower() and "failed" in html


def test_feedback_files_leak_no_hidden_test_code_reference_code_or_expected_values(graded, tiny_course, tmp_path):
    written = feedback(graded, "lesson_01", tmp_path / "fb")
    assert sorted(p.stem for p in written) == ["bob", "frank", "grace"]
    secrets = secrets_of(tiny_course, graded)
    assert secrets, "the leak check must have something to look for"
    for page in written:
        text = page.read_text()
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{page.name} leaks {leaked[:5]}"


def test_reveal_shows_the_hidden_tests_messages_to_the_instructor(graded, tiny_course, tmp_path):
    [bob] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb", reveal=True) if p.stem == "bob"]
    assert "inputs:" in bob.read_text() and any(s in bob.read_text() for s in secrets_of(tiny_course, graded))


def test_an_ungraded_submission_gets_its_error_and_no_scores(graded, tmp_path):
    [frank] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb") if p.stem == "frank"]
    assert "could not be graded" in frank.read_text() and "JSON" in frank.read_text()
    assert "Score:" not in frank.read_text()


def test_the_untouched_stub_is_told_it_is_not_implemented(graded, tmp_path):
    [grace] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb") if p.stem == "grace"]
    assert "Score: 0 / 6" in grace.read_text() and "not implemented yet" in grace.read_text()


@pytest.mark.parametrize("student, name", [("alice", "alice"), ("../etc/passwd", "_etc_passwd"), ("", "student")])
def test_student_ids_become_safe_file_names(student, name):
    assert safe_name(student).strip("_") == name.strip("_")


@needs_chromium
def test_a_feedback_page_renders_in_chromium_without_console_errors(graded, tmp_path):
    [bob] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb") if p.stem == "bob"]
    loaded = load_page(bob, tmp_path)
    assert loaded.console == [] and 'id="scores"' in loaded.dom and loaded.screenshot.stat().st_size > 0
