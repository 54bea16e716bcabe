"""Grading a batch: result rows, JSON, isolation between submissions, determinism."""

import json
from dataclasses import asdict
from pathlib import Path

import nbformat
import pytest

from conftest import index_of, needs_sandbox, submission
from rlgrade.grade import GradeOptions, SubmissionFile, discover, grade, result_from_dict, summarize
from rlgrade.gradebook import Gradebook
from rlgrade.sandbox import Limits

pytestmark = needs_sandbox

CORRECT = "import torch\ndef add_one(x):\n    return x + 1\ndef scale(x, k=2.0):\n    return k * x\n"
FAST = GradeOptions(limits=Limits(call_seconds=3), submission_seconds=60)


def grade_dir(course, directory, tmp_path, **kw):
    return grade(course, "lesson_01", [directory], gradebook_url=f"sqlite:///{tmp_path}/gb.db",
                 json_path=tmp_path / "out.json", options=kw.pop("options", FAST), **kw)


def by_student(report):
    return {r.student: r for r in report.results}


def test_json_has_the_documented_shape(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    submission(subs, "alice", CORRECT)
    grade_dir(tiny_course, subs, tmp_path)
    [row] = json.loads((tmp_path / "out.json").read_text())
    assert {"student", "score", "max_score", "status", "error", "questions"} <= set(row)
    assert (row["student"], row["score"], row["max_score"], row["status"], row["error"]) == ("alice", 6.0, 6.0, "graded", None)
    test = row["questions"]["add_one"]["tests"][0]
    assert set(test) == {"name", "outcome", "points", "max_points", "message", "kind", "diagnosis"}
    assert row["questions"]["scale"] == {"score": 3.0, "max_score": 3.0, "tests": [
        {"name": "test_default_factor", "outcome": "passed", "points": 3.0, "max_points": 3.0, "message": None,
         "kind": "", "diagnosis": None}], "public_checks": []}


def test_a_wrong_answer_loses_only_its_points_with_a_teaching_message(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    submission(subs, "bob", CORRECT.replace("return x + 1", "return x + 2"))
    report = grade_dir(tiny_course, subs, tmp_path)
    bob = by_student(report)["bob"]
    assert bob.questions["add_one"].score == 0 and bob.questions["scale"].score == 3
    message = bob.questions["add_one"].tests[0].message
    assert "expected 1.0, got 2.0" in message and "rtol=" in message
    assert "x=tensor([0.], dtype=torch.float64)" in message  # hypothesis' shrunk input


def test_notebook_submissions_and_student_folders_are_found(tiny_course, tmp_path):
    nb = nbformat.read(tiny_course.release_notebook("lesson_01"), as_version=4)
    nb.cells[index_of(nb, "add_one")].source = "def add_one(x):\n    return x + 1"
    subs = tmp_path / "subs"
    (subs / "carol").mkdir(parents=True)
    nbformat.write(nb, subs / "carol" / "whatever.ipynb")
    nbformat.write(nb, subs / "dan.ipynb")
    submission(subs, "erin", CORRECT)
    (subs / "notes.txt").write_text("not a submission")
    assert [s.student for s in discover([subs])] == ["carol", "dan", "erin"]
    rows = by_student(grade_dir(tiny_course, subs, tmp_path))
    assert rows["carol"].questions["add_one"].score == 3 and rows["carol"].questions["scale"].score == 0
    assert "not implemented yet" in rows["carol"].questions["scale"].tests[0].message
    assert rows["carol"].warnings == ()  # the release's `from rlgrade import check; check()` cell was skipped


def test_every_submission_gets_a_row_even_when_it_cannot_be_graded(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "broken.ipynb").write_text("{ this is not json")
    submission(subs, "loops", "while True:\n    pass\n")
    submission(subs, "syntax", "def add_one(x)\n    return x\n")  # missing colon
    submission(subs, "missing", "def scale(x, k=2.0):\n    return k * x\n")
    submission(subs, "fine", CORRECT)
    rows = by_student(grade_dir(tiny_course, subs, tmp_path))
    assert rows["broken"].status == "error" and "not valid JSON" in rows["broken"].error
    assert rows["loops"].status == "error" and "did not finish" in rows["loops"].error
    assert rows["syntax"].status == "graded" and any("SyntaxError" in w for w in rows["syntax"].warnings)
    assert "does not define a function named 'add_one'" in rows["missing"].questions["add_one"].tests[0].message
    assert rows["fine"].score == 6


def test_a_hanging_or_crashing_function_costs_only_its_own_question(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    submission(subs, "hang", CORRECT.replace("return x + 1", "while True:\n        pass"))
    submission(subs, "crash", "import os\n" + CORRECT.replace("return x + 1", "os._exit(3)"))
    rows = by_student(grade_dir(tiny_course, subs, tmp_path))
    for name, words in (("hang", "did not return within 3 s"), ("crash", "exited with status 3")):
        assert rows[name].questions["add_one"].score == 0 and rows[name].questions["scale"].score == 3
        assert words in rows[name].questions["add_one"].tests[0].message


ATTACKS = {
    "read_solutions": """
import glob
def add_one(x):
    found = glob.glob('/**/solutions/*.py', recursive=True) + glob.glob('/**/autograder/**', recursive=True)
    if found:
        raise SystemExit(open(found[0]).read())
    return x
""",
    "patch_allclose": """
import torch
torch.allclose = lambda *a, **k: True
torch.isclose = lambda a, b, **k: torch.ones_like(a, dtype=torch.bool)
torch.Tensor.__eq__ = lambda a, b: True
def add_one(x):
    return x
""",
    "network": """
import socket
def add_one(x):
    socket.create_connection(("127.0.0.1", 8888), timeout=1).sendall(b"hi")
    return x + 1
""",
    "fake_output": """
import sys, json
print(json.dumps({"student": "fake", "score": 100}))
sys.stdout.write("1 passed, 0 failed\\n")
def add_one(x):
    return x
""",
    "exit_early": "import sys\nsys.exit(0)\ndef add_one(x):\n    return x\n",
}


def test_attacks_gain_nothing_and_leave_other_rows_untouched(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    for name, code in ATTACKS.items():
        submission(subs, name, code)
    submission(subs, "honest", CORRECT)
    rows = by_student(grade_dir(tiny_course, subs, tmp_path, workers=2))
    assert rows["honest"].score == 6 and rows["honest"].status == "graded"
    for name in ATTACKS:
        row = rows[name]
        add_one = row.questions.get("add_one")
        # the network attack computes the right answer only if it can connect — it cannot
        assert add_one is not None and add_one.score == 0, (name, row)
    # had the glob found the reference, SystemExit would have carried its text into the message
    assert "Reference solutions, generated" not in json.dumps(rows["read_solutions"].to_json())


def test_regrading_gives_identical_json_and_keeps_history(tiny_course, tmp_path):
    subs = tmp_path / "subs"
    submission(subs, "alice", CORRECT.replace("return x + 1", "return x + 1.5"))
    first = grade_dir(tiny_course, subs, tmp_path).to_json()
    second = grade_dir(tiny_course, subs, tmp_path, regrade=True).to_json()
    assert first == second
    history = Gradebook(f"sqlite:///{tmp_path}/gb.db").history("alice", "lesson_01")
    assert len(history) == 2 and history[0].to_json() == history[1].to_json()


def test_grading_refuses_to_run_without_the_sandbox(tiny_course, tmp_path, monkeypatch):
    import rlgrade.grade

    monkeypatch.setattr(rlgrade.grade, "sandbox_available", lambda: False)
    submission(tmp_path / "subs", "alice", CORRECT)
    with pytest.raises(RuntimeError, match="--no-sandbox"):
        grade_dir(tiny_course, tmp_path / "subs", tmp_path)


def test_a_forbidden_builtin_costs_its_question_with_a_message_naming_it(tiny_course, tmp_path):
    tests = tiny_course.tests_dir("lesson_01") / "test_scale.py"
    tests.write_text(tests.read_text() + '\npytestmark = pytest.mark.forbid("aten::mul")\n')
    subs = tmp_path / "subs"
    submission(subs, "aliased", "import torch\nmultiply = torch.mul\ndef add_one(x):\n    return x + 1\n"
                                "def scale(x, k=2.0):\n    return multiply(x, k)\n")
    submission(subs, "by_hand", "def add_one(x):\n    return x + 1\ndef scale(x, k=2.0):\n    return x / (1.0 / k)\n")
    rows = by_student(grade_dir(tiny_course, subs, tmp_path))
    scale = rows["aliased"].questions["scale"]
    assert scale.score == 0 and "calls torch's built-in mul" in scale.tests[0].message
    assert rows["by_hand"].questions["scale"].score == rows["by_hand"].questions["scale"].max_score


def test_gpu_tasks_get_hours_of_worker_cpu_and_the_gpu_only_where_cuda_is(monkeypatch):
    import torch  # noqa: PLC0415

    from rlgrade.grade import GPU_TASK_CPU_SECONDS, options_for  # noqa: PLC0415

    options = GradeOptions(limits=Limits(cpu_seconds=60))
    assert options_for("lesson_08", options) == options
    for cuda in (False, True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        gpu = options_for("lesson_08_gpu", options)
        assert gpu.limits.cpu_seconds == GPU_TASK_CPU_SECONDS and gpu.limits.gpu is cuda
        assert gpu.submission_seconds > options.submission_seconds
        assert gpu.limits.memory_bytes == options.limits.memory_bytes  # CPU-only runs keep the memory limit


def test_training_curves_travel_from_the_grading_process_to_the_row_but_not_into_the_json():
    curves = [{"task": "sft", "model": "tiny", "log": [{"step": 0.0, "loss": 2.5}, {"step": 1.0, "loss": 2.0}]}]
    result = summarize(SubmissionFile("ann", Path("ann.py")), "lesson_04_gpu", [], curves=curves)
    back = result_from_dict(json.loads(json.dumps(asdict(result))))  # a grader process to its parent
    assert back.curves == tuple(curves) and back == result
    assert "curves" not in json.dumps(back.to_json()) and "loss" not in json.dumps(back.to_json())
