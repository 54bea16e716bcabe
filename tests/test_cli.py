import json

from typer.testing import CliRunner

from conftest import needs_sandbox, submission
from rlgrade.cli import app

runner = CliRunner()


def test_list_json_names_notebooks_and_questions(tiny_course):
    out = runner.invoke(app, ["list", "--json", "--course", str(tiny_course.root)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == [{"assignment": "lesson_01", "notebook": "release/lesson_01/problem_set.ipynb",
                                       "questions": ["add_one", "scale"]}]


def test_release_check_exits_nonzero_when_stale(tiny_course):
    args = ["release", "--check", "--course", str(tiny_course.root)]
    assert runner.invoke(app, args).exit_code == 0
    tiny_course.release_notebook("lesson_01").unlink()
    stale = runner.invoke(app, args)
    assert stale.exit_code == 1 and "release/lesson_01/problem_set.ipynb" in stale.output


def test_release_reports_malformed_markers_with_location(tiny_course):
    path = tiny_course.source_notebook("lesson_01")
    path.write_text(path.read_text().replace("### END SOLUTION", "### END SOLUTON", 1))
    out = runner.invoke(app, ["release", "--course", str(tiny_course.root)])
    assert out.exit_code == 1 and "problem_set.ipynb, cell 2, line 3" in out.output


def test_unknown_assignment_is_a_clear_error(tiny_course, tmp_path):
    out = runner.invoke(app, ["grade", "lesson_99", str(tmp_path), "--course", str(tiny_course.root)])
    assert out.exit_code == 1 and "assignment='lesson_99' is not in" in out.output


@needs_sandbox
def test_grade_then_export_csv(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    submission(subs, "alice", "def add_one(x):\n    return x + 1\n")
    db = f"sqlite:///{tmp_path}/gb.db"
    graded = runner.invoke(app, ["grade", "lesson_01", str(subs), "--gradebook", db, "--json", str(tmp_path / "r.json"),
                                 "--course", str(tiny_course.root)])
    assert graded.exit_code == 0, graded.output
    assert "alice" in graded.output and "3/6" in graded.output
    csv_out = runner.invoke(app, ["export", "csv", "lesson_01", "--gradebook", db, "--course", str(tiny_course.root)])
    assert csv_out.stdout.splitlines()[1] == "alice,3,0,3,6,graded"


@needs_sandbox
def test_grade_then_review_and_feedback(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    submission(subs, "bob", "def add_one(x):\n    return x - 1\ndef scale(x, k=2.0):\n    return x * k\n")
    db = f"sqlite:///{tmp_path}/gb.db"
    assert runner.invoke(app, ["grade", "lesson_01", str(subs), "--gradebook", db, "--course", str(tiny_course.root)]).exit_code == 0
    terminal = runner.invoke(app, ["review", "lesson_01", "--gradebook", db])
    assert terminal.exit_code == 0, terminal.output
    assert "matches: subtracts" in terminal.output and "bob" in terminal.output
    page = tmp_path / "report" / "review.html"
    assert runner.invoke(app, ["review", "lesson_01", "--gradebook", db, "--html", str(page)]).exit_code == 0
    assert "matches: subtracts" in page.read_text()
    written = runner.invoke(app, ["feedback", "lesson_01", "--gradebook", db, "--out", str(tmp_path / "fb")])
    assert written.exit_code == 0 and (tmp_path / "fb" / "bob.html").is_file()
    missing = runner.invoke(app, ["review", "lesson_99", "--gradebook", db])
    assert missing.exit_code == 1 and "no results for lesson_99" in missing.output
