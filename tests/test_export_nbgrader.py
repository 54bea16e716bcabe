"""``rlgrade export nbgrader``: scores per question pushed into an nbgrader gradebook, read back with nbgrader's API."""

import pytest
from nbgrader import api as nbgrader_api
from typer.testing import CliRunner

from rlgrade.cli import app
from rlgrade.export import alembic_on_path
from rlgrade.grade import QuestionResult, SubmissionResult
from rlgrade.gradebook import Gradebook
from rlgrade.testing.plugin import TestOutcome


def result(student, add_one, scale=3.0, status="graded"):
    def question(name, score, max_score):
        test = TestOutcome(f"test_{name}", name, "passed" if score == max_score else "failed", score, max_score, None)
        return QuestionResult(name, score, max_score, (test,) if status == "graded" else ())

    questions = {"add_one": question("add_one", add_one, 3.0), "scale": question("scale", scale, 3.0)}
    return SubmissionResult(student, "lesson_01", f"{student}.ipynb", "h", status, None if status == "graded" else "broken",
                            add_one + scale if status == "graded" else 0.0, 6.0, questions)


@pytest.fixture
def graded(tmp_path) -> str:
    """An rlgrade gradebook with three students: full marks, a wrong add_one, an ungradable notebook."""
    url = f"sqlite:///{tmp_path}/rlgrade.db"
    gradebook = Gradebook(url)
    for row in (result("alice", 3.0), result("bob", 0.0), result("carol", 0.0, 0.0, status="error")):
        gradebook.record(row)
    return url


def export(graded, db):
    out = CliRunner().invoke(app, ["export", "nbgrader", "lesson_01", "--db", db, "--gradebook", graded])
    assert out.exit_code == 0, out.output
    return out


def test_scores_become_autoscores_a_rerun_updates_them_and_keeps_a_tas_manual_scores(graded, tmp_path):
    db = f"sqlite:///{tmp_path}/nbgrader.db"
    assert "wrote 3 students' scores for lesson_01" in export(graded, db).output
    with nbgrader_api.Gradebook(db) as nb:
        cells = {c.name: c.max_score for c in nb.find_notebook("problem_set", "lesson_01").grade_cells}
        assert cells == {"add_one": 3.0, "scale": 3.0}
        assert sorted(s.id for s in nb.students) == ["alice", "bob", "carol"]
        scores = {(s, q): nb.find_grade(q, "problem_set", "lesson_01", s).score
                  for s in ("alice", "bob", "carol") for q in ("add_one", "scale")}
        assert scores == {("alice", "add_one"): 3.0, ("alice", "scale"): 3.0, ("bob", "add_one"): 0.0,
                          ("bob", "scale"): 3.0, ("carol", "add_one"): 0.0, ("carol", "scale"): 0.0}
        assert [nb.find_submission("lesson_01", s).score for s in ("alice", "bob", "carol")] == [6.0, 3.0, 0.0]
        # the ungradable notebook is waiting for a TA in formgrader; the graded ones are not
        assert [nb.find_submission("lesson_01", s).needs_manual_grade for s in ("alice", "bob", "carol")] == \
            [False, False, True]
        grade = nb.find_grade("add_one", "problem_set", "lesson_01", "carol")
        grade.manual_score = 2.0  # what formgrader does when a TA grades by hand
        grade.needs_manual_grade = False
        nb.db.commit()

    Gradebook(graded).record(result("bob", 3.0))  # bob was regraded
    export(graded, db)
    with nbgrader_api.Gradebook(db) as nb:
        assert nb.find_grade("add_one", "problem_set", "lesson_01", "bob").score == 3.0
        carol = nb.find_grade("add_one", "problem_set", "lesson_01", "carol")
        assert (carol.manual_score, carol.score, carol.needs_manual_grade) == (2.0, 2.0, False)
        assert len(nb.find_notebook("problem_set", "lesson_01").grade_cells) == 2  # no duplicates


@pytest.mark.filterwarnings("ignore:.* not in session:sqlalchemy.exc.SAWarning")  # nbgrader's add_submission
def test_an_existing_nbgrader_course_gets_the_grade_cells_added_to_its_submissions(graded, tmp_path):
    db = f"sqlite:///{tmp_path}/nbgrader.db"
    with alembic_on_path(), nbgrader_api.Gradebook(db) as nb:  # nbgrader already has alice's submission
        nb.add_assignment("lesson_01")
        nb.add_notebook("problem_set", "lesson_01")
        nb.add_solution_cell("add_one", "problem_set", "lesson_01")  # the answer cell, as nbgrader sees it
        nb.add_student("alice")
        nb.add_submission("lesson_01", "alice")
    export(graded, db)
    with nbgrader_api.Gradebook(db) as nb:
        assert nb.find_grade("add_one", "problem_set", "lesson_01", "alice").score == 3.0
        assert nb.find_submission("lesson_01", "alice").score == 6.0


def test_nbgraders_gradebook_must_be_another_database(graded):
    out = CliRunner().invoke(app, ["export", "nbgrader", "lesson_01", "--db", graded, "--gradebook", graded])
    assert out.exit_code == 2 and "another database" in out.output


def test_an_assignment_without_results_is_a_clear_error(graded, tmp_path):
    out = CliRunner().invoke(app, ["export", "nbgrader", "lesson_02", "--db", f"sqlite:///{tmp_path}/nb.db",
                                   "--gradebook", graded])
    assert out.exit_code == 2 and "no results for lesson_02" in out.output
