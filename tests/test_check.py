"""check(): a student's self-check inside the notebook, and ``rlgrade check NOTEBOOK``.

The main tests run release notebooks top to bottom in a real Jupyter kernel (nbclient), as a
student would, and then ``from rlgrade import check; result = check()``: the result and what
the kernel printed. One kernel serves several students in turn (each run redefines every
function), because a kernel start costs seconds. The rest runs check() in this process on a
plain dict as the student's globals.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, cell, tiny_notebook
from typer.testing import CliRunner

from rlgrade.check import cell_text, check, render, this_python_kernel
from rlgrade.cli import app
from rlgrade.course import Course
from rlgrade.notebook import graded_cells, is_solution, nbgrader_meta, read_notebook
from rlgrade.release import release

CHECK_SCALE = '''# Example 1 — doubles by default.
got = scale(torch.tensor([1.0, 2.0]))
assert torch.equal(got, torch.tensor([2.0, 4.0])), f"scale: expected tensor([2., 4.]), got {got}"

# Example 2 — the factor k = 3.
got = scale(torch.tensor([1.0]), k=3.0)
assert torch.equal(got, torch.tensor([3.0])), f"scale(k=3): expected tensor([3.]), got {got}"
print("scale: public examples passed")'''

WRONG_SCALE = "def scale(x, k=2.0):\n    return x * 2  # ignores k"

RESULT = "import json\nprint('RESULT', json.dumps(result.statuses()))"


@pytest.fixture
def course(tmp_path: Path) -> Course:
    """The tiny course with a check cell for its second question too, released."""
    nb = tiny_notebook()
    nb.cells.append(cell("code", CHECK_SCALE, grade_id="check_scale", grade=True, points=0))
    nb.cells[-1]["id"] = f"cell-{len(nb.cells) - 1}"
    root = tmp_path / "course"
    (root / "source" / "lesson_01").mkdir(parents=True)
    nbformat.write(nb, root / "source" / "lesson_01" / "problem_set.ipynb")
    course = Course(root)
    release(course)
    return course


def student_cells(release_nb: Path, answers: dict[str, str] | None = None) -> list[str]:
    """The release notebook's code cells, top to bottom, with the given solution cells filled in."""
    answers = answers or {}
    nb = read_notebook(release_nb)
    return [answers.get(nbgrader_meta(c).get("grade_id"), c.source) if is_solution(c) else c.source
            for c in nb.cells if c.cell_type == "code"]


def reference_answers(source_nb: Path) -> dict[str, str]:
    """question → the reference solution cell (markers dropped), as a student who pasted it in."""
    return {g.grade_id: g.reference_code for g in graded_cells(read_notebook(source_nb), source_nb)}


@contextlib.contextmanager
def kernel(cwd: Path, timeout: int = 120):
    """A Jupyter kernel of this Python started in ``cwd``; yields ``run(source) -> printed text``."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    with tempfile.TemporaryDirectory(prefix="rlgrade-test-") as sockets:
        client = NotebookClient(nb, km=this_python_kernel(Path(sockets)), timeout=timeout, allow_errors=True,
                                shutdown_kernel="immediate", resources={"metadata": {"path": str(cwd)}})

        def run(source: str) -> str:
            nb.cells.append(nbformat.v4.new_code_cell(source))
            client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
            return cell_text(nb.cells[-1])

        with client.setup_kernel(cleanup_kc=True):
            yield run


def run_student(run, cells: list[str], check_call: str = "check()") -> tuple[dict, str]:
    """Run a student's notebook top to bottom, then check(): (question → status, what check printed)."""
    for source in cells:
        run(source)  # the check cells of an unfinished notebook raise; the run goes on, as check() would
    shown = run(f"from rlgrade import check\nresult = {check_call}")
    printed = run(RESULT)
    line = next(line for line in printed.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT ")), shown


def test_students_in_a_real_kernel(course, monkeypatch):
    """Do-nothing, reference and one-wrong-function students; check("q") and an unknown name."""
    release_nb = course.release_notebook("lesson_01")
    # As jupyter_server sets it: the notebook's path relative to the server's root; the kernel runs
    # in the notebook's folder.
    monkeypatch.setenv("JPY_SESSION_NAME", str(release_nb.relative_to(course.root)))
    reference = reference_answers(course.source / "lesson_01" / "problem_set.ipynb")
    with kernel(release_nb.parent) as run:
        statuses, shown = run_student(run, student_cells(release_nb))
        assert statuses == {"add_one": "not implemented yet", "scale": "not implemented yet"}
        assert "TODO    add_one  not implemented yet" in shown and "0 of 2 question(s) pass" in shown
        assert "public examples passed" not in shown and "Traceback" not in shown

        statuses, shown = run_student(run, student_cells(release_nb, reference))
        assert statuses == {"add_one": "passed", "scale": "passed"}
        assert "PASS    scale    passed" in shown and "All 2 question(s) pass" in shown

        statuses, shown = run_student(run, student_cells(release_nb, {**reference, "scale": WRONG_SCALE}))
        assert statuses == {"add_one": "passed", "scale": "failed"}
        assert "FAIL    scale    failed" in shown
        assert "Example 2 — the factor k = 3." in shown  # which example, then the check's own message
        assert "scale(k=3): expected tensor([3.]), got tensor([2.])" in shown

        # The checks ran in a copy of the student's globals: their `got` is still theirs.
        run("got = 'mine'")
        statuses, shown = run_student(run, [], 'check("scale")')
        assert statuses == {"scale": "failed"} and "add_one" not in shown
        assert "RESULT 'mine'" in run("print('RESULT', repr(got))")

        error = run('check("add_two")')
        assert "ValueError" in error and "no question 'add_two'" in error and "add_one, scale" in error


@pytest.mark.slow
def test_lesson_06_in_a_real_kernel(tmp_path):
    """A shipped lesson (torch checks): untouched stubs, then the reference pasted in."""
    release_nb = REPO / "release" / "lesson_06" / "problem_set.ipynb"
    call = f"check(notebook={str(release_nb)!r})"
    questions = ["reward_to_go", "reinforce_loss", "normalize_advantages", "softmax_policy_gradient", "gae",
                 "gae_token_level"]
    with kernel(tmp_path) as run:
        statuses, shown = run_student(run, student_cells(release_nb), call)
        assert statuses == dict.fromkeys(questions, "not implemented yet")
        assert "0 of 6 question(s) pass" in shown
        reference = reference_answers(REPO / "source" / "lesson_06" / "problem_set.ipynb")
        statuses, shown = run_student(run, student_cells(release_nb, reference), call)
        assert statuses == dict.fromkeys(questions, "passed"), shown
        assert "All 6 question(s) pass" in shown


def test_cli_runs_the_notebook_in_a_kernel(course, tmp_path):
    """`rlgrade check NOTEBOOK`: exit 1 and the failing example; with -q only that question, exit 0."""
    release_nb = course.release_notebook("lesson_01")
    reference = reference_answers(course.source / "lesson_01" / "problem_set.ipynb")
    nb = read_notebook(release_nb)
    for c in nb.cells:
        if is_solution(c):
            c.source = {**reference, "scale": WRONG_SCALE}[nbgrader_meta(c)["grade_id"]]
    nb.cells.insert(2, nbformat.v4.new_code_cell("1 / 0  # a student's scratch cell that raises"))
    mine = tmp_path / "mine.ipynb"
    nbformat.write(nb, mine)

    result = CliRunner().invoke(app, ["check", str(mine)])
    assert result.exit_code == 1, result.output
    assert "PASS    add_one" in result.output and "FAIL    scale" in result.output
    assert "scale(k=3): expected tensor([3.]), got tensor([2.])" in result.output
    assert "note: cell 2: ZeroDivisionError: division by zero" in result.output  # the run went on after it

    result = CliRunner().invoke(app, ["check", str(mine), "-q", "add_one", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(q["question"], q["status"]) for q in data["questions"]] == [("add_one", "passed")]


def test_cli_usage_errors(course, tmp_path):
    """Unknown question, missing file: exit 2 before any kernel starts."""
    release_nb = course.release_notebook("lesson_01")
    result = CliRunner().invoke(app, ["check", str(release_nb), "-q", "nope"])
    assert result.exit_code == 2 and "no question 'nope'" in result.output
    assert CliRunner().invoke(app, ["check", str(tmp_path / "missing.ipynb")]).exit_code == 2


# ---------------------------------------------------------------- in this process

def test_statuses_in_process(tiny_course, capsys):
    """not defined, a crash (with where it was raised), no examples; the namespace is left as it was."""
    import torch

    notebook = tiny_course.release_notebook("lesson_01")
    report = check(notebook=notebook, namespace={"torch": torch}, quiet=True)
    assert report.statuses() == {"add_one": "not defined", "scale": "no public examples"}
    assert not report.ok

    def add_one(x):
        print("debugging add_one")  # the student's own print is shown
        return x.nope

    namespace = {"torch": torch, "add_one": add_one}
    report = check("add_one", notebook=notebook, namespace=namespace, quiet=True)
    assert report.statuses() == {"add_one": "error"}
    assert "AttributeError" in report.questions[0].message and "raised in add_one" in report.questions[0].message
    assert set(namespace) == {"torch", "add_one"}
    assert capsys.readouterr().out == "debugging add_one\n"

    report = check(notebook=notebook, namespace={"torch": torch, "add_one": lambda x: x}, quiet=True)
    assert report.statuses()["add_one"] == "failed"
    # The tiny check has no message: the failing line says what was expected.
    assert "assert add_one(torch.zeros(1)).item() == 1.0" in report.questions[0].message


def test_helper_stub_is_named(tiny_course):
    """A question that calls another, unfinished question is "not implemented yet", naming that one."""
    import torch

    def scale(x, k=2.0):
        raise NotImplementedError()

    def add_one(x):
        return scale(x) + 1

    report = check(notebook=tiny_course.release_notebook("lesson_01"), quiet=True,
                   namespace={"torch": torch, "add_one": add_one, "scale": scale})
    assert report.statuses()["add_one"] == "not implemented yet"
    assert "add_one calls scale" in report.questions[0].message


def test_finds_the_notebook(tiny_course, tmp_path, monkeypatch, capsys):
    """Without notebook= or JPY_SESSION_NAME: the single notebook with check cells in the folder."""
    import torch

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tiny_course.release_notebook("lesson_01").parent)
    report = check(namespace={"torch": torch, "add_one": lambda x: x + 1})
    assert report.statuses()["add_one"] == "passed"
    assert "\033[" not in capsys.readouterr().out  # not a terminal: no colour codes

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="notebook="):
        check(namespace={})


def test_render_colour_only_when_asked(tiny_course):
    import torch

    report = check(notebook=tiny_course.release_notebook("lesson_01"), namespace={"torch": torch}, quiet=True)
    assert "\033[33m" in render(report, colour=True) and "\033[" not in render(report)
