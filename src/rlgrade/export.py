"""``rlgrade export``: the gradebook as files other tools read."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import sysconfig
import warnings
from pathlib import Path

from rlgrade.course import Course
from rlgrade.gradebook import Gradebook


def export_csv(gradebook: Gradebook, assignment: str, questions: list[str]) -> str:
    """One row per student, one column per question (its score), then total, max and status."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *questions, "score", "max_score", "status"])
    for result in gradebook.current_results(assignment):
        per_question = [f"{result.questions[q].score:g}" if q in result.questions else "0" for q in questions]
        writer.writerow([result.student, *per_question, f"{result.score:g}", f"{result.max_score:g}", result.status])
    return out.getvalue()


def export_nbgrader(gradebook: Gradebook, assignment: str, db_url: str, *, notebook: str | None = None,
                    course_id: str = "default_course") -> list[str]:
    """Write every student's current score per question into an nbgrader gradebook; returns the students.

    Each question becomes a grade cell of ``notebook`` (named after the question, worth its hidden
    tests' points; default: the release notebook's name, ``problem_set`` or ``gpu_tasks``) and its
    score that cell's autoscore, so nbgrader's formgrader lists and totals them and a TA can
    override one with a manual score (a rerun updates autoscores, keeps manual scores). Rows that could not be graded are marked as needing a manual grade.
    """
    from nbgrader.api import Gradebook as NbgraderGradebook  # noqa: PLC0415 - slow import

    notebook = notebook or Path(Course.notebook_name(assignment)).stem
    results = gradebook.current_results(assignment)
    if not results:
        raise ValueError(f"the gradebook at {gradebook.url} has no results for {assignment}: run `rlgrade grade` first")
    points: dict[str, float] = {}
    for result in results:
        for name, question in result.questions.items():
            points[name] = max(points.get(name, 0.0), question.max_score)
    with alembic_on_path(), quiet_nbgrader(), NbgraderGradebook(db_url, course_id=course_id) as nb:
        nb.update_or_create_assignment(assignment)
        nb.update_or_create_notebook(notebook, assignment)
        for name, max_score in points.items():
            nb.update_or_create_grade_cell(name, notebook, assignment, max_score=max_score, cell_type="code")
        for result in results:
            nb.update_or_create_student(result.student)
            nb.update_or_create_submission(assignment, result.student)
            for name in points:
                grade = nbgrader_grade(nb, name, notebook, assignment, result.student)
                question = result.questions.get(name)
                grade.auto_score = question.score if question and result.status == "graded" else 0.0
                # an ungraded row needs a TA, until one has given it a manual score
                grade.needs_manual_grade = result.status != "graded" and grade.manual_score is None
            nb.db.commit()
    return [r.student for r in results]


def nbgrader_grade(nb, cell: str, notebook: str, assignment: str, student: str):
    """The student's grade for a grade cell; created when the cell (or the notebook) is newer than the
    submission (nbgrader creates grades only with the submission)."""
    from nbgrader.api import Grade, MissingEntry, SubmittedNotebook  # noqa: PLC0415

    try:
        return nb.find_grade(cell, notebook, assignment, student)
    except MissingEntry:
        pass
    try:
        submitted = nb.find_submission_notebook(notebook, assignment, student)
    except MissingEntry:
        submitted = SubmittedNotebook(notebook=nb.find_notebook(notebook, assignment),
                                      assignment=nb.find_submission(assignment, student))
        nb.db.add(submitted)
    grade = Grade(cell_id=nb.find_grade_cell(cell, notebook, assignment).id, notebook=submitted)
    nb.db.add(grade)
    nb.db.flush()
    return grade


@contextlib.contextmanager
def alembic_on_path():
    """nbgrader runs the ``alembic`` command (from ``PATH``) to stamp a new gradebook: make sure the
    one installed beside this Python is found, also from a virtualenv that is not activated."""
    if shutil.which("alembic"):
        yield
        return
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), before])
    try:
        yield
    finally:
        os.environ["PATH"] = before


@contextlib.contextmanager
def quiet_nbgrader():
    """nbgrader's ``add_submission`` builds its rows before adding them to the session, which
    SQLAlchemy 2 reports as a warning per row (harmless: they are added right after)."""
    from sqlalchemy.exc import SAWarning  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".* not in session", category=SAWarning)
        yield
