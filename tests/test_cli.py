import json
import os
import shlex
import subprocess
import sys

import pytest
import typer
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
    assert out.exit_code == 2 and "assignment='lesson_99' is not in" in out.output


def examples_of(command, path=("rlgrade",)):
    """(command path, example argv) for every command's epilog, subcommands included."""
    found = [(path, shlex.split(line[2:])) for line in (command.epilog or "").split("\n\n") if line.startswith("$ ")]
    for name, sub in getattr(command, "commands", {}).items():
        found += examples_of(sub, (*path, name))
    return found


def test_help_shows_examples_and_exit_codes():
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0 and "Examples:" in top.output and "$ rlgrade list --json" in top.output
    assert "Exit codes: 0" in top.output and "2 usage error" in top.output
    found = examples_of(typer.main.get_command(app))
    documented = {path for path, _ in found}
    commands = {("rlgrade", name) for name in ("release", "list", "validate", "grade", "review", "feedback", "slides",
                                               "demo", "check")} | {("rlgrade", "export", n) for n in ("csv", "nbgrader", "gradescope")} \
        | {("rlgrade", "import", "otter")}
    assert commands <= documented
    for path, argv in found:  # every example parses: its command and options exist (--help stops before running)
        assert argv[:len(path)] == list(path), argv
        out = runner.invoke(app, [*argv[1:], "--help"])
        assert out.exit_code == 0 and "Usage:" in out.output, (argv, out.output)


@pytest.mark.parametrize(("args", "message"), [
    (["grade", "lesson_01", "nowhere", "--due", "soon"], "is not a date"),
    (["grade", "lesson_01", "nowhere"], "does not exist"),
    (["validate", "lesson_99"], "is not in"),
    (["validate", "lesson_01", "-q", "nope"], "are not in lesson_01"),
    (["export", "csv", "lesson_99"], "is not in"),
    (["release", "lesson_99"], "is not in"),
    (["list", "--bogus"], "No such option"),
])
def test_usage_errors_exit_2(tiny_course, args, message):
    out = runner.invoke(app, [*args, "--course", str(tiny_course.root)])
    assert out.exit_code == 2 and message in " ".join(out.output.split()), out.output


def test_missing_course_exits_2(tmp_path):
    out = runner.invoke(app, ["list", "--course", str(tmp_path)])
    assert out.exit_code == 2 and "has a source/ directory" in out.output


def test_validate_json_reports_each_question_and_exits_1(tiny_course):
    out = runner.invoke(app, ["validate", "lesson_01", "--json", "--no-sandbox", "--workers", "1",
                              "--course", str(tiny_course.root)])
    assert out.exit_code == 1, out.output  # scale has no misconceptions
    [report] = json.loads(out.stdout)
    questions = {q["question"]: q for q in report["questions"]}
    assert report["assignment"] == "lesson_01" and report["ok"] is False
    add_one, scale = questions["add_one"], questions["scale"]
    assert add_one["ok"] and add_one["reference"] == add_one["max_score"] > 0 and add_one["stub"] == 0
    assert {m["description"]: m["ok"] for m in add_one["misconceptions"]} == {
        "adds two": True, "returns float64": True, "subtracts": True}
    assert [r["ok"] for r in add_one["rewrites"]] == [True]
    assert not scale["ok"] and any("misconceptions" in p for p in scale["problems"])
    assert "validation failed" in out.stderr


def rlgrade(*args, **env):
    """Run the CLI in a subprocess, stdout and stderr through pipes, without inherited colour settings."""
    clean = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TERM")}
    return subprocess.run([sys.executable, "-m", "rlgrade.cli", *args], capture_output=True, text=True, check=False,
                          env={**clean, "TERM": "xterm-256color", **env}, timeout=120)


def test_output_through_a_pipe_has_no_colour(tiny_course):
    out = rlgrade("list", "--course", str(tiny_course.root))
    assert out.returncode == 0 and "lesson_01" in out.stdout and "\x1b[" not in out.stdout


def test_no_color_is_respected(tmp_path):
    forced = rlgrade("list", "--course", str(tmp_path), FORCE_COLOR="1")
    assert forced.returncode == 2 and "\x1b[31m" in forced.stderr  # the check can see colour
    plain = rlgrade("list", "--course", str(tmp_path), FORCE_COLOR="1", NO_COLOR="1")
    assert plain.returncode == 2 and "error:" in plain.stderr and "\x1b[31m" not in plain.stderr


@needs_sandbox
def test_grade_then_export_csv(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    submission(subs, "alice", "def add_one(x):\n    return x + 1\n")
    db = f"sqlite:///{tmp_path}/gb.db"
    graded = runner.invoke(app, ["grade", "lesson_01", str(subs), "--gradebook", db, "--json", str(tmp_path / "r.json"),
                                 "--course", str(tiny_course.root)])
    assert graded.exit_code == 0, graded.output
    assert "alice" in graded.output and "3/6" in graded.output
    assert json.loads((tmp_path / "r.json").read_text())[0]["score"] == 3
    again = runner.invoke(app, ["grade", "lesson_01", str(subs), "--gradebook", db, "--json", "-",  # resumes: no regrading
                                "--course", str(tiny_course.root)])
    assert again.exit_code == 0, again.output
    [row] = json.loads(again.stdout)  # only JSON on stdout
    assert (row["student"], row["score"], row["status"]) == ("alice", 3, "graded") and "kept" in again.stderr
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
    as_json = runner.invoke(app, ["review", "lesson_01", "--gradebook", db, "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    clusters = [c for q in data["questions"] for c in q["clusters"] if c["diagnosed"]]
    assert {c["label"] for c in clusters} == {"subtracts"} and clusters[0]["students"] == ["bob"]
    assert data["students"][0]["student"] == "bob" and data["explained"] == data["failing"] == 1
    missing = runner.invoke(app, ["review", "lesson_99", "--gradebook", db])
    assert missing.exit_code == 2 and "no results for lesson_99" in missing.output
