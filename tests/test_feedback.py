"""Feedback pages: what a student may see, and the leak check that nothing hidden gets out."""

import math
import re
import sys

import pytest

from browser import load_page, needs_chromium
from conftest import REPO, TEST_ADD_ONE, needs_sandbox, submission
from rlgrade.feedback import feedback, safe_name, training_figures
from rlgrade.grade import GradeOptions, QuestionResult, SubmissionResult, grade
from rlgrade.gradebook import Gradebook
from rlgrade.sandbox import Limits
from rlgrade.testing.plugin import TestOutcome

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


@needs_sandbox
def test_feedback_gives_scores_titles_and_the_misconception_as_a_hint(graded, tmp_path):
    [bob] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb") if p.stem == "bob"]
    html = bob.read_text()
    assert "Score: 3 / 6" in html
    assert "add_one adds one to every element." in html  # the hidden test's title
    assert "hint: this looks like a known mistake: adds two" in html
    assert "public examples" in html.lower() and "failed" in html


@needs_sandbox
def test_feedback_files_leak_no_hidden_test_code_reference_code_or_expected_values(graded, tiny_course, tmp_path):
    written = feedback(graded, "lesson_01", tmp_path / "fb")
    assert sorted(p.stem for p in written) == ["bob", "frank", "grace"]
    secrets = secrets_of(tiny_course, graded)
    assert secrets, "the leak check must have something to look for"
    for page in written:
        text = page.read_text()
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{page.name} leaks {leaked[:5]}"


@needs_sandbox
def test_reveal_shows_the_hidden_tests_messages_to_the_instructor(graded, tiny_course, tmp_path):
    [bob] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb", reveal=True) if p.stem == "bob"]
    assert "inputs:" in bob.read_text() and any(s in bob.read_text() for s in secrets_of(tiny_course, graded))


@needs_sandbox
def test_an_ungraded_submission_gets_its_error_and_no_scores(graded, tmp_path):
    [frank] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb") if p.stem == "frank"]
    assert "could not be graded" in frank.read_text() and "JSON" in frank.read_text()
    assert "Score:" not in frank.read_text()


@needs_sandbox
def test_the_untouched_stub_is_told_it_is_not_implemented(graded, tmp_path):
    [grace] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb") if p.stem == "grace"]
    assert "Score: 0 / 6" in grace.read_text() and "not implemented yet" in grace.read_text()


@pytest.mark.parametrize("student, name", [("alice", "alice"), ("../etc/passwd", "_etc_passwd"), ("", "student")])
def test_student_ids_become_safe_file_names(student, name):
    assert safe_name(student).strip("_") == name.strip("_")


@needs_sandbox
@needs_chromium
def test_a_feedback_page_renders_in_chromium_without_console_errors(graded, tmp_path):
    [bob] = [p for p in feedback(graded, "lesson_01", tmp_path / "fb") if p.stem == "bob"]
    loaded = load_page(bob, tmp_path)
    assert loaded.console == [] and 'id="scores"' in loaded.dom and loaded.screenshot.stat().st_size > 0


# ---- training curves (GPU-marked tasks): results built by hand, no training, no sandbox ----------

def dpo_log(steps: int = 4) -> list[dict]:
    return [{"step": i, "loss": 0.7 - 0.05 * i, "accuracy": 0.5 + 0.1 * i, "margin": 0.02 * i, "tokens_per_s": 800.0}
            for i in range(steps)]


def trained(student: str, curves=()) -> SubmissionResult:
    tests = (TestOutcome("test_dpo", "dpo_loss", "passed", 2.0, 2.0, None, title="DPO prefers the chosen answers."),)
    return SubmissionResult(student, "lesson_08_gpu", f"{student}.ipynb", "h", "graded", None, 2.0, 2.0,
                            {"dpo_loss": QuestionResult("dpo_loss", 2.0, 2.0, tests)}, curves=tuple(curves))


def page_for(result: SubmissionResult, tmp_path) -> str:
    gradebook = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    gradebook.record(result)
    [path] = feedback(gradebook, "lesson_08_gpu", tmp_path / "fb")
    return path.read_text(encoding="utf-8")


def test_a_result_with_training_logs_shows_each_run_as_an_inline_svg(tmp_path):
    grpo = [{"step": i, "loss": 0.1, "reward": 0.2 * i, "kl": 0.01 * i} for i in range(4)]
    page = page_for(trained("ann", [{"task": "dpo", "model": "tiny", "log": dpo_log()},
                                    {"task": "grpo", "model": "smollm2", "log": grpo}]), tmp_path)
    assert "Training curves" in page and "dpo (tiny twin)" in page and "grpo (SmolLM2)" in page
    assert page.count("<svg") == 2 and page.count("</svg>") == 2
    assert not re.search(r"<(img|link|script)\b|\ssrc=", page)  # self-contained: nothing to fetch
    assert "Score: 2 / 2" in page and "DPO prefers the chosen answers." in page


def test_a_result_without_training_logs_has_no_curves(tmp_path):
    page = page_for(trained("bob"), tmp_path)
    assert "Training curves" not in page and "<svg" not in page and "Score: 2 / 2" in page


def test_hostile_training_logs_are_cleaned_or_dropped_not_shown(tmp_path):
    junk = [{"step": 0, "loss": float("nan"), "margin": "<script>alert(1)</script>"}, {"step": 1, "loss": [[1.0]]},
            {"step": 2, "loss": 0.5, "kl": {"deep": {"er": [1]}}}, "step", None, *dpo_log(100_000)]
    curves = [{"task": "dpo", "model": "tiny", "log": junk}, {"task": "<script>", "model": "tiny", "log": dpo_log()},
              {"task": "sft", "model": "tiny", "log": [float("nan")] * 10}, "not a run", {"task": "grpo"}]
    page = page_for(trained("mallory", curves), tmp_path)
    assert page.count("<svg") == 1 and "dpo (tiny twin)" in page
    assert "<script" not in page and "alert(1)" not in page
    [stored] = Gradebook(f"sqlite:///{tmp_path}/gb.db").current_results("lesson_08_gpu")[0].curves
    assert len(stored["log"]) <= 200 and all(set(p) == {"step", "loss", "accuracy", "margin"} for p in stored["log"])
    assert all(v is None or math.isfinite(v) for point in stored["log"] for v in point.values())


def test_curves_in_a_gradebook_that_escaped_the_checks_are_checked_again_before_drawing(tmp_path):
    figures = training_figures(trained("eve", [{"task": "dpo", "model": "tiny", "log": [{"step": 0, "loss": "x"}]},
                                               {"task": "sft", "model": "tiny", "log": dpo_log()}]))
    assert [f["title"] for f in figures] == ["sft (tiny twin)"] and figures[0]["svg"].startswith("<svg")


def test_without_matplotlib_the_page_says_why_there_are_no_curves(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # what importing it does when it is not installed
    page = page_for(trained("ann", [{"task": "dpo", "model": "tiny", "log": dpo_log()}]), tmp_path)
    assert "dpo (tiny twin)" in page and "matplotlib is not installed" in page and "<svg" not in page


@needs_chromium
def test_a_page_with_training_curves_renders_in_chromium_without_console_errors(tmp_path):
    (tmp_path / "page").mkdir()
    page = tmp_path / "ann.html"
    page.write_text(page_for(trained("ann", [{"task": "dpo", "model": "tiny", "log": dpo_log()}]), tmp_path / "page"))
    loaded = load_page(page, tmp_path)
    assert loaded.console == [] and 'id="training"' in loaded.dom and "<svg" in loaded.dom
