"""``gpu``-marked hidden tests: without CUDA they are recorded as skipped ("needs GPU") and left out of
the maximum (neither zero nor full marks), in the inventory too; with CUDA they are graded like any
other; reports show the skip as such."""

from __future__ import annotations

import pytest

from conftest import forget_hidden_tests, write
from rlgrade.feedback import feedback
from rlgrade.grade import SubmissionFile, hidden_test_points, run_hidden_tests, summarize
from rlgrade.gradebook import Gradebook
from rlgrade.gradescope import results_json
from rlgrade.testing import plugin, training
from rlgrade.testing.student import InProcessBackend, Student
from rlgrade.testing.variants import load_module

TEST_SCALE_ON_GPU = '''
import pytest
import torch

from rlgrade.testing import assert_close


@pytest.mark.gpu
@pytest.mark.question("scale")
@pytest.mark.points(5)
def test_scale_on_the_big_model(student):
    """scale, as a stand-in for a fine-tuning run."""
    assert_close(student.scale(torch.ones(2)), torch.full((2,), 2.0))
'''


@pytest.fixture
def gpu_course(tiny_course):
    """The tiny course with a ``gpu`` test of ``scale``; its hidden tests run in this process, so the
    modules of another test's course (same names, other files) are forgotten before and after."""
    write(tiny_course.tests_dir("lesson_01") / "test_scale_on_gpu.py", TEST_SCALE_ON_GPU)
    forget_hidden_tests()
    yield tiny_course
    forget_hidden_tests()


def reference_outcomes(course):
    reference = load_module(course.solution_module("lesson_01"), "rlgrade_solutions.gpu_course_lesson_01")
    student = Student(InProcessBackend(dict(vars(reference))))
    return run_hidden_tests(course, "lesson_01", student, questions=("scale",))


def test_without_cuda_a_gpu_test_is_skipped_and_left_out_of_the_maximum(gpu_course, monkeypatch):
    monkeypatch.setattr(plugin, "cuda_available", lambda: False)
    outcomes = {o.name: o for o in reference_outcomes(gpu_course)}
    skipped = outcomes["test_scale_on_the_big_model"]
    assert (skipped.outcome, skipped.message, skipped.points, skipped.max_points) == ("skipped", "needs GPU", 0.0, 0.0)
    assert outcomes["test_default_factor"].outcome == "passed"
    result = summarize(SubmissionFile("ref", gpu_course.solution_module("lesson_01")), "lesson_01", list(outcomes.values()))
    assert (result.score, result.max_score) == (3.0, 3.0)  # full marks for what was graded, nothing for the skip
    assert hidden_test_points(gpu_course, "lesson_01")["scale"] == 3.0  # error rows get the same maximum


def test_with_cuda_a_gpu_test_is_graded_and_counts(gpu_course, monkeypatch):
    monkeypatch.setattr(plugin, "cuda_available", lambda: True)
    outcomes = {o.name: o for o in reference_outcomes(gpu_course)}
    graded = outcomes["test_scale_on_the_big_model"]
    assert (graded.outcome, graded.points, graded.max_points) == ("passed", 5.0, 5.0)
    assert hidden_test_points(gpu_course, "lesson_01")["scale"] == 8.0


def test_reports_show_a_skipped_test_as_not_graded(gpu_course, monkeypatch, tmp_path):
    monkeypatch.setattr(plugin, "cuda_available", lambda: False)
    result = summarize(SubmissionFile("ann", gpu_course.solution_module("lesson_01")), "lesson_01",
                       reference_outcomes(gpu_course))
    output = results_json(result, ["scale"])["tests"][0]["output"]
    assert "skipped (not graded: needs GPU)  scale, as a stand-in for a fine-tuning run." in output.splitlines()
    gradebook = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    gradebook.record(result)
    page = feedback(gradebook, "lesson_01", tmp_path / "feedback")[0].read_text(encoding="utf-8")
    assert "skipped (needs GPU)" in page and "3 / 3" in page


TEST_SCALE_TRAINS = '''
import pytest


@pytest.mark.question("scale")
def test_scale_trains(trainings):
    """scale, as a stand-in for a training run."""
    assert trainings("dpo", "tiny").log
'''


def test_the_training_runs_curves_reach_the_result_and_its_feedback_page(tiny_course, monkeypatch, tmp_path):
    log = [{"step": i, "loss": 1.0 / (i + 1), "accuracy": 0.5, "tokens_per_s": 1000.0 + i} for i in range(5)]
    monkeypatch.setattr(Student, "train", lambda self, task, request, *, seconds: (log, {}))
    monkeypatch.setattr(training, "train_request", lambda task, model: {})
    write(tiny_course.tests_dir("lesson_01") / "test_scale_trains.py", TEST_SCALE_TRAINS)
    forget_hidden_tests()
    try:
        reference = load_module(tiny_course.solution_module("lesson_01"), "rlgrade_solutions.curves_lesson_01")
        curves = []
        outcomes = run_hidden_tests(tiny_course, "lesson_01", Student(InProcessBackend(dict(vars(reference)))),
                                    questions=("scale",), curves=curves)
    finally:
        forget_hidden_tests()
    assert {o.name: o.outcome for o in outcomes}["test_scale_trains"] == "passed"
    assert curves == [{"task": "dpo", "model": "tiny", "log": training.learning_curve(log)}]
    assert "tokens_per_s" not in str(curves)  # a timing: a regrade would store another one
    result = summarize(SubmissionFile("ann", tiny_course.solution_module("lesson_01")), "lesson_01", outcomes,
                       curves=curves)
    gradebook = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    gradebook.record(result)
    page = feedback(gradebook, "lesson_01", tmp_path / "feedback")[0].read_text(encoding="utf-8")
    assert "Training curves" in page and "dpo (tiny twin)" in page and page.count("<svg") == 1
