"""The GPU-marked assignments (``lesson_XX_gpu``): their notebook is ``source/lesson_XX/gpu_tasks.ipynb``
beside the problem set, found, released and graded like any assignment; its training cells never run in
grading nor go into the reference; the shipped ones reuse the problem set's functions verbatim and state
the thresholds their hidden tests use."""

from __future__ import annotations

import importlib.util
import re

import nbformat
import pytest

from conftest import REPO, cell, tiny_notebook
from rlgrade.course import Course
from rlgrade.grade import discover_nbgrader
from rlgrade.notebook import graded_cells, is_check, nbgrader_meta, read_notebook
from rlgrade.release import release
from rlgrade.submission import read_submission

COURSE = Course(REPO)
TRAIN_CELL = 'from rlgrade.finetune import train_here\n\nmodel, log = train_here("sft", globals())'


@pytest.fixture
def gpu_course(tiny_course):
    """The tiny course plus lesson_01_gpu: its problem set's add_one, and a training cell."""
    nb = tiny_notebook()
    nb.cells = nb.cells[:4] + [cell("code", TRAIN_CELL, grade_id="train_add_one")]
    nbformat.write(nb, tiny_course.source / "lesson_01" / "gpu_tasks.ipynb")
    release(tiny_course)
    return tiny_course


def test_a_gpu_tasks_notebook_is_an_assignment_of_its_own(gpu_course):
    assert gpu_course.assignments() == ["lesson_01", "lesson_01_gpu"]
    root = gpu_course.root
    assert gpu_course.source_notebook("lesson_01_gpu") == root / "source/lesson_01/gpu_tasks.ipynb"
    assert gpu_course.release_notebook("lesson_01_gpu") == root / "release/lesson_01/gpu_tasks.ipynb"
    assert gpu_course.solution_module("lesson_01_gpu") == root / "solutions/lesson_01_gpu.py"
    assert gpu_course.tests_dir("lesson_01_gpu") == root / "autograder/lesson_01_gpu"
    assert gpu_course.release_notebook("lesson_01_gpu").is_file()


def test_training_cells_go_neither_into_the_reference_nor_into_grading(gpu_course):
    reference = gpu_course.solution_module("lesson_01_gpu").read_text(encoding="utf-8")
    assert "def add_one" in reference and "train_here" not in reference
    released = gpu_course.release_notebook("lesson_01_gpu")
    graded = read_submission(released, released)  # the release as handed in: the locked training cell too
    assert graded.cells and not any("train_here" in code for _, code in graded.cells)


def test_nbgrader_folders_are_searched_for_the_assignments_notebook(gpu_course, tmp_path):
    for student, name in [("ann", "gpu_tasks.ipynb"), ("bob", "problem_set.ipynb")]:
        folder = tmp_path / "submitted" / student / "lesson_01_gpu"
        folder.mkdir(parents=True)
        (folder / name).write_bytes(gpu_course.release_notebook("lesson_01_gpu").read_bytes())
        (folder / "other.ipynb").write_text("{}", encoding="utf-8")
    found = {s.student: s for s in discover_nbgrader(tmp_path / "submitted", "lesson_01_gpu")}
    assert found["ann"].path.name == "gpu_tasks.ipynb" and found["ann"].problem is None
    assert "2 notebooks, none named gpu_tasks.ipynb" in found["bob"].problem


@pytest.mark.parametrize("assignment", ["lesson_04_gpu", "lesson_08_gpu"])
def test_shipped_gpu_tasks_reuse_the_problem_sets_functions_and_checks(assignment):
    """Students paste their function from the problem set: the reference and the examples are the same."""
    lesson = COURSE.lesson_of(assignment)
    problem_set = read_notebook(COURSE.source_notebook(lesson))
    gpu_tasks = read_notebook(COURSE.source_notebook(assignment))
    references = {c.grade_id: c.source for c in graded_cells(problem_set, COURSE.source_notebook(lesson))}
    for question in graded_cells(gpu_tasks, COURSE.source_notebook(assignment)):
        assert question.source == references[question.grade_id], question.grade_id
    checks = {nbgrader_meta(c)["grade_id"]: c.source for c in problem_set.cells if is_check(c)}
    for check in (c for c in gpu_tasks.cells if is_check(c)):
        assert check.source == checks[nbgrader_meta(check)["grade_id"]]


def thresholds(assignment: str):
    spec = importlib.util.spec_from_file_location(f"thresholds_{assignment}", COURSE.tests_dir(assignment) / "thresholds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def markdown(assignment: str) -> str:
    return "\n".join(c.source for c in read_notebook(COURSE.source_notebook(assignment)).cells if c.cell_type == "markdown")


def test_the_sft_notebook_states_the_hidden_tests_thresholds():
    text = markdown("lesson_04_gpu")
    for drop in thresholds("lesson_04_gpu").SFT_DROP.values():
        assert re.search(rf"\*\*{100 * drop:.0f}%\*\*", text), drop


def test_the_dpo_and_grpo_notebook_states_the_hidden_tests_thresholds():
    text, module = markdown("lesson_08_gpu"), thresholds("lesson_08_gpu")
    for accuracy in module.DPO_ACCURACY.values():
        assert f"at least **{accuracy:g}**" in text
    for gain in module.GRPO_GAIN.values():
        assert f"at least **{gain:g}** above the untrained model's" in text


def test_every_task_has_a_training_cell_that_grading_skips():
    from rlgrade.notebook import is_training

    for assignment, tasks in [("lesson_04_gpu", ["sft"]), ("lesson_08_gpu", ["dpo", "grpo"])]:
        nb = read_notebook(COURSE.release_notebook(assignment))
        cells = [c for c in nb.cells if is_training(c)]
        assert [nbgrader_meta(c)["grade_id"] for c in cells] == [f"train_{task}" for task in tasks]
        assert all(nbgrader_meta(c)["locked"] and "raises-exception" in c.metadata["tags"] for c in cells)
