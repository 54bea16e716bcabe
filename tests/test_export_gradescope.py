"""``rlgrade export gradescope``: the autograder zip, run as Gradescope runs it, and its results.json."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import jsonschema
import nbformat
import pytest
from typer.testing import CliRunner

import rlgrade
from conftest import index_of, needs_sandbox
from rlgrade.cli import app
from rlgrade.grade import QuestionResult, SubmissionResult
from rlgrade.gradescope import UploadError, find_upload, grade_upload, results_json
from rlgrade.testing.plugin import TestOutcome

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "simple_format", "html", "md", "ansi"]}
# Gradescope's results.json, from https://gradescope-autograders.readthedocs.io/en/latest/specs/
# ("Output format"): every field optional, but a score on the top level or on every test.
RESULTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number", "minimum": 0},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"},
                "name_format": FORMAT,
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
        "leaderboard": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}},
        }},
    },
    "anyOf": [
        {"required": ["score"]},
        {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}},
    ],
}


def valid(results: dict) -> dict:
    jsonschema.validate(results, RESULTS_SCHEMA)
    return results


def test_the_schema_rejects_what_gradescope_would():
    valid({"score": 1.0, "tests": []})
    for wrong in ({"tests": [{"name": "no score anywhere"}]}, {"score": "6"}, {"score": 1, "tests": [{"visibility": "later"}]},
                  {"score": 1, "test": []}):
        with pytest.raises(jsonschema.ValidationError):
            valid(wrong)


# ---------------------------------------------------------------- the converter (pure)

def outcome(name, question, result, points, max_points, **kw):
    return TestOutcome(name, question, result, points, max_points, kw.pop("message", None), **kw)


def row(**kw) -> SubmissionResult:
    add_one = QuestionResult("add_one", 2.0, 3.0, (
        outcome("test_matches_reference", "add_one", "passed", 2.0, 2.0, title="add_one adds one to every element."),
        outcome("test_keeps_float32", "add_one", "failed", 0.0, 1.0, title="The result keeps float32.",
                message="expected float32, got float64 for x=tensor([0.])", diagnosis="returns float64"),
        outcome("check_add_one", "add_one", "failed", 0.0, 0.0, message="assert 2.0 == 1.0", public=True),
    ))
    scale = QuestionResult("scale", 3.0, 3.0, (outcome("test_default_factor", "scale", "passed", 3.0, 3.0,
                                                       title="scale doubles by default."),))
    fields = dict(student="alice", assignment="lesson_01", path="alice.ipynb", content_hash="x", status="graded",
                  error=None, score=5.0, max_score=6.0, questions={"scale": scale, "add_one": add_one},
                  warnings=("cell 3 raised while loading:\nNameError: name 'np' is not defined",))
    return SubmissionResult(**{**fields, **kw})


def test_each_question_is_a_scored_test_shown_after_publishing_and_its_checks_are_shown_now():
    results = valid(results_json(row(), ["add_one", "scale"]))
    assert results["score"] == 5.0
    names = [t["name"] for t in results["tests"]]
    assert names == ["add_one: hidden tests", "add_one: public examples (your notebook's checks)", "scale: hidden tests"]
    hidden, public, scale = results["tests"]
    assert (hidden["score"], hidden["max_score"], hidden["visibility"]) == (2.0, 3.0, "after_published")
    assert (scale["score"], scale["max_score"], scale["visibility"]) == (3.0, 3.0, "after_published")
    assert "passed  2/2  add_one adds one to every element." in hidden["output"]
    assert "failed  0/1  The result keeps float32." in hidden["output"]
    assert "hint: this looks like a known mistake: returns float64" in hidden["output"]
    assert "expected float32" not in json.dumps(results)  # hidden tests' messages stay with the staff
    assert public == {"name": "add_one: public examples (your notebook's checks)", "status": "failed",
                      "output": "failed: assert 2.0 == 1.0", "visibility": "visible"}
    assert "NameError: name 'np' is not defined" in results["output"]
    assert "5" not in results["output"]  # the score is not given away before publishing
    assert results["stdout_visibility"] == "hidden" and results["output_format"] == "text"


def test_reveal_adds_the_hidden_tests_messages():
    [hidden, *_] = results_json(row(), ["add_one", "scale"], reveal=True)["tests"]
    assert "        expected float32, got float64 for x=tensor([0.])" in hidden["output"]


def test_an_error_row_scores_zero_and_says_why_at_the_top():
    error = row(status="error", error="alice.ipynb is not valid JSON (line 1)", score=0.0, warnings=(),
                questions={"add_one": QuestionResult("add_one", 0.0, 3.0, ()),
                           "scale": QuestionResult("scale", 0.0, 3.0, ())})
    results = valid(results_json(error, ["add_one", "scale"]))
    assert results["score"] == 0.0
    assert results["output"].startswith("Your submission could not be graded:\n\nalice.ipynb is not valid JSON")
    assert [(t["score"], t["max_score"], t["output"]) for t in results["tests"]] == \
        [(0.0, 3.0, "not graded: see the message at the top")] * 2


def test_the_file_to_grade_is_the_only_notebook_or_the_one_named_like_the_release(tmp_path):
    one = tmp_path / "one"
    (one / "hw" / "__MACOSX").mkdir(parents=True)
    (one / "hw" / "my answers.ipynb").write_text("{}")
    (one / "hw" / "__MACOSX" / "._my answers.ipynb").write_text("junk")
    (one / "hw" / "helper.py").write_text("")  # a notebook wins over .py files
    assert find_upload(one, "problem_set.ipynb") == one / "hw" / "my answers.ipynb"
    two = tmp_path / "two"
    two.mkdir()
    for name in ("problem_set.ipynb", "scratch.ipynb"):
        (two / name).write_text("{}")
    assert find_upload(two, "problem_set.ipynb") == two / "problem_set.ipynb"
    (two / "problem_set.ipynb").rename(two / "final.ipynb")
    with pytest.raises(UploadError, match="2 notebooks and it is not clear which to grade"):
        find_upload(two, "problem_set.ipynb")
    pdf = tmp_path / "pdf"
    pdf.mkdir()
    (pdf / "answers.pdf").write_text("")
    (pdf / "answers.py").symlink_to(tmp_path / "two" / "scratch.ipynb")  # a link is never graded (nor read)
    with pytest.raises(UploadError, match=r"no notebook \(.ipynb\) or .py file to grade \(it holds: answers.pdf\)"):
        find_upload(pdf, "problem_set.ipynb")


# ---------------------------------------------------------------- the zip, run like Gradescope runs it

@pytest.fixture
def autograder(tiny_course, tmp_path) -> Path:
    """``rlgrade export gradescope`` unpacked the way Gradescope lays out ``/autograder``."""
    zip_path = tmp_path / "autograder.zip"
    out = CliRunner().invoke(app, ["export", "gradescope", "lesson_01", "--out", str(zip_path),
                                   "--course", str(tiny_course.root)])
    assert out.exit_code == 0, out.output
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # what Gradescope does
    (root / "run_autograder").chmod(0o755)
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    """Run ``run_autograder`` in the simulated tree with this venv's Python (setup.sh is not run)."""
    env = {**os.environ, "RLGRADE_GRADESCOPE_ROOT": str(root), "RLGRADE_PYTHON": python}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return valid(json.loads((root / "results" / "results.json").read_text()))


def upload(root: Path, course, name="problem_set.ipynb", add_one="x + 1") -> Path:
    nb = nbformat.read(course.release_notebook("lesson_01"), as_version=4)
    nb.cells[index_of(nb, "add_one")].source = f"def add_one(x):\n    return {add_one}"
    nb.cells[index_of(nb, "scale")].source = "def scale(x, k=2.0):\n    return x * k"
    path = root / "submission" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def by_name(results):
    return {t["name"]: t for t in results["tests"]}


def test_the_zip_holds_the_scripts_the_course_files_and_an_installable_rlgrade(tiny_course, autograder, tmp_path):
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert {"setup.sh", "run_autograder", "constraints.txt", "rlgrade-gradescope.json",
            "course/source/lesson_01/problem_set.ipynb", "course/release/lesson_01/problem_set.ipynb",
            "course/solutions/lesson_01.py", "course/autograder/__init__.py", "course/autograder/lesson_01/test_add_one.py",
            "course/autograder/lesson_01/variants/add_one.py", "rlgrade/pyproject.toml", "rlgrade/README.md",
            "rlgrade/src/rlgrade/gradescope.py", "rlgrade/src/rlgrade/templates/run_autograder.j2"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    source = autograder / "source"
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", str(source / script)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    setup = (source / "setup.sh").read_text()
    assert "apt-get install" in setup and "bubblewrap" in setup and "download.pytorch.org/whl/cpu" in setup
    assert f"torch=={metadata.version('torch').split('+')[0]}\n" in (source / "constraints.txt").read_text()
    assert json.loads((source / "rlgrade-gradescope.json").read_text())["assignment"] == "lesson_01"
    # setup.sh pip-installs the bundled copy: it must be the whole package, with what pyproject.toml names
    package = Path(rlgrade.__file__).parent
    shipped = {p.relative_to(package).as_posix() for p in package.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert {n.removeprefix("rlgrade/src/rlgrade/") for n in names if n.startswith("rlgrade/src/rlgrade/")} == shipped
    assert tomllib.loads((source / "rlgrade" / "pyproject.toml").read_text())["project"]["readme"] == "README.md"


@needs_sandbox
def test_a_correct_upload_gets_full_marks(tiny_course, autograder):
    upload(autograder, tiny_course, name="hw1/problem_set.ipynb")
    (autograder / "submission" / "hw1" / "notes.txt").write_text("not graded")
    results = run_autograder(autograder)
    assert results["score"] == 6.0 and results["execution_time"] > 0
    tests = by_name(results)
    assert (tests["add_one: hidden tests"]["score"], tests["add_one: hidden tests"]["max_score"]) == (3.0, 3.0)
    assert (tests["scale: hidden tests"]["score"], tests["scale: hidden tests"]["max_score"]) == (3.0, 3.0)
    assert {t["visibility"] for n, t in tests.items() if n.endswith("hidden tests")} == {"after_published"}
    public = tests["add_one: public examples (your notebook's checks)"]
    assert (public["status"], public["visibility"]) == ("passed", "visible")


@needs_sandbox
def test_a_wrong_answer_loses_its_points_and_is_told_the_likely_mistake(tiny_course, autograder):
    upload(autograder, tiny_course, add_one="x - 1")
    results = run_autograder(autograder)
    assert results["score"] == 3.0
    tests = by_name(results)
    assert tests["add_one: hidden tests"]["score"] == 0.0 and tests["scale: hidden tests"]["score"] == 3.0
    assert "hint: this looks like a known mistake: subtracts" in tests["add_one: hidden tests"]["output"]
    assert tests["add_one: public examples (your notebook's checks)"]["status"] == "failed"


@needs_sandbox
def test_a_malformed_notebook_gets_a_valid_results_json_with_zero_and_the_reason(autograder):
    (autograder / "submission" / "problem_set.ipynb").write_text("{ this is not json")
    results = run_autograder(autograder)
    assert results["score"] == 0.0
    assert results["output"].startswith("Your submission could not be graded:") and "not valid JSON" in results["output"]
    assert [(t["name"], t["score"], t["max_score"]) for t in results["tests"]] == \
        [("add_one: hidden tests", 0.0, 3.0), ("scale: hidden tests", 0.0, 3.0)]


def test_an_autograder_that_cannot_start_python_still_writes_a_zero(autograder):
    results = run_autograder(autograder, python="/bin/false")
    assert results["score"] == 0 and "failed before it could grade this submission (exit 1)" in results["output"]


def test_it_refuses_to_grade_unisolated_unless_exported_so(tiny_course, autograder, monkeypatch):
    upload(autograder, tiny_course)
    monkeypatch.setattr("rlgrade.sandbox.sandbox_available", lambda: False)
    results = valid(grade_upload(autograder))
    assert results["score"] == 0.0 and "cannot isolate submissions" in results["output"]


def test_exporting_an_unknown_assignment_is_a_clear_error(tiny_course, tmp_path):
    out = CliRunner().invoke(app, ["export", "gradescope", "lesson_09", "--out", str(tmp_path / "a.zip"),
                                   "--course", str(tiny_course.root)])
    assert out.exit_code == 2 and "assignment='lesson_09' is not in" in out.output
    assert not (tmp_path / "a.zip").exists()
