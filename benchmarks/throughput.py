"""Throughput of ``rlgrade grade`` against ``nbgrader autograde`` on the same submissions (issue 9).

A measurement, not a test. In one run, on one machine:

1. writes N lesson-style submissions into a temporary nbgrader course
   (``source/``, ``release/``, ``submitted/<student>/<assignment>/problem_set.ipynb`` + ``timestamp.txt``):
   the release notebook with its solution cells filled in, some with the reference bodies, some with a
   known misconception (``autograder/<assignment>/variants/``) in one or two questions;
2. times ``nbgrader autograde`` on them (one Jupyter kernel per notebook, the notebook's own check cells);
3. times ``rlgrade grade`` on the same ``submitted/`` folder with 1 and with 2 workers (sandbox on,
   the full hidden suite, a fresh gradebook each);
4. measures rlgrade's per-submission overhead on a trivial one-question course, and a cold against a
   warm worker start;
5. profiles one grading process (where a submission's seconds go);
6. prints a table and writes ``throughput.json`` to ``--out``.

Run from the repository root: ``.venv/bin/python benchmarks/throughput.py [--n 20] [--lesson lesson_06] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import cProfile
import importlib.metadata
import inspect
import json
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import nbformat

from rlgrade.course import PROBLEM_SET, Course
from rlgrade.grade import GradeOptions, SubmissionFile, _grade_task, record_in_pool
from rlgrade.notebook import graded_cells, is_check, is_solution, nbgrader_meta, read_notebook
from rlgrade.pool import PRELOAD, SLOT, run_tasks
from rlgrade.release import CHECK_ALL_ID, CHECK_HOWTO_ID
from rlgrade.sandbox import Limits, Worker, Zygote, ZygotePool
from rlgrade.testing.variants import load_module
from rlgrade.validate import variants_of

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # not resolved: a venv's bin/ holds nbgrader, rlgrade and alembic
TIMESTAMP = "2026-11-21 09:00:00.000000 UTC"  # nbgrader's own format
CORRECT_SHARE = 0.4
"""Share of students whose every answer is the reference; the others have one or two known bugs."""
TARGETS = {"speedup_vs_nbgrader": 20.0, "overhead_seconds": 0.2, "scaling_2_over_1": 1.8}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="submissions to grade (default 20: about 6 minutes on 2 cores)")
    parser.add_argument("--lesson", default="lesson_06", help="a shipped problem set (default lesson_06)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="where throughput.json goes")
    parser.add_argument("--seed", type=int, default=0, help="which students get which bugs")
    parser.add_argument("--tiny-n", type=int, default=20, help="submissions of the trivial course (overhead)")
    parser.add_argument("--repeats", type=int, default=3, help="cold/warm worker starts to time")
    parser.add_argument("--skip", nargs="*", default=[], choices=["nbgrader", "rlgrade", "overhead", "startup", "profile"],
                        help="parts to leave out (for a quicker look)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary course directory")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- the machine

def machine() -> dict:
    import torch  # noqa: PLC0415 - heavy; imported where it is reported

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kib = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": round(mem_kib / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "nbgrader": version_of("nbgrader"),
        "hypothesis": version_of("hypothesis"),
        "pytest": version_of("pytest"),
        "rlgrade": version_of("rlgrade"),
        "root": os.geteuid() == 0,
        "commit": git("rev-parse", "--short", "HEAD"),
        "src_modified": bool(git("status", "--porcelain", "--", "src")),  # uncommitted changes were measured too
    }


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def load() -> list[float]:
    """1, 5 and 15 minute load averages: other jobs on the machine skew every figure."""
    return [round(x, 2) for x in os.getloadavg()]


def command_env() -> dict:
    """This interpreter's bin/ first on PATH: nbgrader runs ``alembic`` from there to set up its database."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's deprecation warning
    return env


def run_timed(cmd: list[str], *, cwd: Path, log: Path) -> float:
    """Run a command to completion (its output to ``log``); wall-clock seconds. Raises if it fails."""
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(cmd, cwd=cwd, env=command_env(), stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited with {done.returncode}:\n{tail}")
    return seconds


def rlgrade_command() -> list[str]:
    script = BIN / "rlgrade"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from rlgrade.cli import app; sys.argv[0] = 'rlgrade'; app()"]


# ---------------------------------------------------------------- submissions

def reference_bodies(course: Course, assignment: str) -> dict[str, str]:
    """question → the reference solution cell (markers dropped), as a student who got it right writes it."""
    path = course.source_notebook(assignment)
    return {cell.grade_id: cell.reference_code for cell in graded_cells(read_notebook(path), path)}


def misconception_cells(course: Course, assignment: str, references: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """question → [(misconception name, a solution cell that implements it)]."""
    found: dict[str, list[tuple[str, str]]] = {}
    for question, variants in variants_of(course, assignment).items():
        for variant, path in variants:
            if variant.kind != "misconception" or question not in references:
                continue
            module = load_module(path, f"rlgrade_variants.{assignment}.{path.stem}")
            cell = as_solution_cell(getattr(module, variant.name), module, question, references[question])
            if cell is not None:
                found.setdefault(question, []).append((variant.name, cell))
    return found


def as_solution_cell(fn, module, question: str, reference: str) -> str | None:
    """The misconception written as the student's cell: the question's ``def`` line and docstring, the
    variants module's helpers it uses nested inside (the cell holds one function), then its body.
    None when its parameters differ from the question's (it could not stand in for it)."""
    ref_def = ast.parse(reference).body[0]
    fn_def = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    fn_def.decorator_list = []  # the @misconception marker is no part of the student's code
    if ast.unparse(ref_def.args) != ast.unparse(fn_def.args):
        return None
    reference_lines = reference.split("\n")
    head_end = ref_def.body[0].end_lineno if has_docstring(ref_def) else ref_def.lineno
    head = reference_lines[:head_end]
    source_lines = textwrap.dedent(inspect.getsource(fn)).split("\n")
    first = fn_def.body[1] if has_docstring(fn_def) and len(fn_def.body) > 1 else fn_def.body[0]
    body = source_lines[first.lineno - 1:fn_def.end_lineno]
    helpers = [textwrap.indent(text, "    ") for text in helper_sources(fn_def, module)]
    return "\n".join([*head, *helpers, *body]).rstrip() + "\n"


def has_docstring(node: ast.FunctionDef) -> bool:
    first = node.body[0]
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def helper_sources(fn_def: ast.FunctionDef, module, seen: set[str] | None = None) -> list[str]:
    """Source of the module-level names ``fn_def`` uses (helpers, transitively; modules as imports)."""
    seen = set() if seen is None else seen
    names = {n.id for n in ast.walk(fn_def) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    sources = []
    for name in sorted(names):
        value = vars(module).get(name)
        if value is None or name in seen:  # seen: already emitted, maybe by a helper's own helpers
            continue  # a builtin, a parameter or a local
        seen.add(name)
        if inspect.ismodule(value):
            sources.append(f"import {value.__name__} as {name}" if value.__name__ != name else f"import {name}")
        elif inspect.isfunction(value) and value.__module__ == module.__name__:
            helper = textwrap.dedent(inspect.getsource(value))
            helper_def = ast.parse(helper).body[0]
            helper_def.decorator_list = []
            sources += helper_sources(helper_def, module, seen)
            sources.append(helper[helper.index("def "):])  # without decorators
        else:
            sources.append(f"{name} = {value!r}")
    return sources


def plan_students(n: int, questions: list[str], bugs: dict[str, list[tuple[str, str]]],
                  seed: int) -> list[tuple[str, dict[str, str]]]:
    """(student id, {question: misconception name}); the same seed gives the same class, and
    ``CORRECT_SHARE`` of it (rounded) has no bug."""
    rng = random.Random(seed)
    buggy = [q for q in questions if bugs.get(q)]
    correct = set(rng.sample(range(n), k=round(n * CORRECT_SHARE))) if buggy else set(range(n))
    students = []
    for i in range(n):
        planted: dict[str, str] = {}
        if i not in correct:
            for question in rng.sample(buggy, k=min(len(buggy), rng.choice([1, 2]))):
                planted[question] = rng.choice(bugs[question])[0]
        students.append((f"student{i + 1:03d}", planted))
    return students


def filled_notebook(release: Path, cells: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook with each solution cell replaced, as the student hands it in.

    Without the two self-check cells ``rlgrade release`` adds: nbgrader's course is generated from
    the source, so its database does not know them, and ``nbgrader autograde`` strips an unknown
    locked cell's grade_id, then rejects the notebook ("nbgrader cell does not have a grade_id").
    rlgrade skips these cells when grading, so both graders grade the same code.
    """
    nb = copy.deepcopy(read_notebook(release))
    nb.cells = [cell for cell in nb.cells if nbgrader_meta(cell).get("grade_id") not in (CHECK_HOWTO_ID, CHECK_ALL_ID)]
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_solution(cell) and grade_id in cells:
            cell.source = cells[grade_id]
    return nb


def write_submissions(repo: Course, assignment: str, course_dir: Path, n: int, seed: int) -> list[dict]:
    """N students' notebooks in nbgrader's ``submitted/`` layout; returns who has which bug."""
    references = reference_bodies(repo, assignment)
    bugs = misconception_cells(repo, assignment, references)
    bug_cells = {(q, name): cell for q, variants in bugs.items() for name, cell in variants}
    plan = plan_students(n, list(references), bugs, seed)
    for student, planted in plan:
        cells = {q: bug_cells[(q, planted[q])] if q in planted else body for q, body in references.items()}
        folder = course_dir / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(filled_notebook(repo.release_notebook(assignment), cells), folder / PROBLEM_SET)
        (folder / "timestamp.txt").write_text(TIMESTAMP + "\n")
    return [{"student": student, "bugs": planted} for student, planted in plan]


# ---------------------------------------------------------------- nbgrader

def nbgrader_course(root: Path, repo: Course, assignment: str, students: list[str]) -> None:
    """An nbgrader course at ``root``: config, the source notebook, ``generate_assignment``, the students."""
    (root / "source" / assignment).mkdir(parents=True, exist_ok=True)
    shutil.copy(repo.source_notebook(assignment), root / "source" / assignment / PROBLEM_SET)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'throughput'\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db')!r}\n"
        "c.Execute.timeout = 600\n")  # nbgrader's default is 30 s a cell
    (root / "students.csv").write_text("id\n" + "\n".join(students) + "\n")
    run_timed([str(BIN / "nbgrader"), "generate_assignment", assignment, "--force"], cwd=root,
              log=root / "generate_assignment.log")
    run_timed([str(BIN / "nbgrader"), "db", "student", "import", "students.csv"], cwd=root,
              log=root / "student_import.log")


def run_nbgrader(root: Path, assignment: str, students: list[str]) -> dict:
    """``nbgrader autograde`` on one submission, then on all of them, timed (the difference is its
    cost per submission, start-up excluded); and which check cells failed where."""
    n = len(students)
    one = run_timed([str(BIN / "nbgrader"), "autograde", assignment, "--student", students[0], "--force"], cwd=root,
                    log=root / "autograde_one.log")
    seconds = run_timed([str(BIN / "nbgrader"), "autograde", assignment, "--force"], cwd=root,
                        log=root / "autograde.log")
    failed = {}
    for notebook in sorted((root / "autograded").glob(f"*/{assignment}/{PROBLEM_SET}")):
        nb = nbformat.read(notebook, as_version=4)
        failed[notebook.parents[1].name] = sorted(
            nbgrader_meta(cell)["grade_id"] for cell in nb.cells
            if cell.cell_type == "code" and is_check(cell) and any(o.output_type == "error" for o in cell.outputs))
    if len(failed) != n:
        raise RuntimeError(f"nbgrader autograded {len(failed)} of {n} submissions (see {root / 'autograde.log'})")
    return {"submissions": n, "seconds": seconds, "one_submission_seconds": one,
            "per_submission_marginal_seconds": (seconds - one) / (n - 1) if n > 1 else None,
            "failed_checks": failed, "load_after": load()}


# ---------------------------------------------------------------- rlgrade

def run_rlgrade(course: Course, assignment: str, submissions: Path, workers: int, workdir: Path) -> dict:
    """``rlgrade grade`` into a fresh gradebook, timed; checks that every row was graded."""
    from rlgrade.gradebook import Gradebook  # noqa: PLC0415

    gradebook = f"sqlite:///{workdir / f'rlgrade-{workers}w.db'}"
    results_json = workdir / f"rlgrade-{workers}w.json"
    seconds = run_timed([*rlgrade_command(), "grade", assignment, str(submissions), "--course", str(course.root),
                         "--workers", str(workers), "--gradebook", gradebook, "--json", str(results_json)],
                        cwd=workdir, log=workdir / f"rlgrade-{workers}w.log")
    rows = json.loads(results_json.read_text())
    not_graded = [r["student"] for r in rows if r["status"] != "graded"]
    if not_graded:
        raise RuntimeError(f"rlgrade did not grade {', '.join(not_graded)} (see {workdir / f'rlgrade-{workers}w.log'})")
    row_seconds = {r.student: r.seconds for r in Gradebook(gradebook).current_results(assignment)}
    return {
        "submissions": len(rows), "seconds": seconds, "workers": workers,
        "mean_score": statistics.mean(r["score"] for r in rows), "max_score": rows[0]["max_score"],
        "full_marks": sum(r["score"] == r["max_score"] for r in rows),
        "hidden_tests_per_submission": statistics.mean(sum(len(q["tests"]) for q in r["questions"].values()) for r in rows),
        "row_seconds_mean": statistics.mean(row_seconds.values()), "row_seconds": row_seconds,
        "scores": {r["student"]: r["score"] for r in rows},
        "failed_checks": {r["student"]: sorted(c["name"] for q in r["questions"].values() for c in q["public_checks"]
                                               if c["outcome"] != "passed") for r in rows},
        "load_after": load(),
    }


# ---------------------------------------------------------------- overhead: a trivial course

TINY_ASSIGNMENT = "lesson_01"
TINY_FUNCTION = '''def add_one(x):
    """Return x + 1."""
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION'''
TINY_TEST = '''
import pytest

from rlgrade.testing import reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("add_one")


def test_add_one(student):
    """add_one adds one."""
    assert student.add_one(1.0) == ref.add_one(1.0)
'''


def tiny_course(root: Path) -> Course:
    """One question, one hidden test that calls it once: grading it is nearly all overhead
    (built like the ``tiny_course`` fixture of tests/conftest.py)."""
    from rlgrade.release import release  # noqa: PLC0415

    def cell(kind: str, source: str, **meta) -> nbformat.NotebookNode:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        made = new(source)
        made.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False, "locked": True, **meta}
        return made

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [cell("markdown", "# Trivial problem set", grade_id="intro"),
                cell("code", TINY_FUNCTION, grade_id="add_one", solution=True, locked=False)]
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i}"
    (root / "source" / TINY_ASSIGNMENT).mkdir(parents=True)
    nbformat.write(nb, root / "source" / TINY_ASSIGNMENT / PROBLEM_SET)
    for package in ("autograder", f"autograder/{TINY_ASSIGNMENT}"):
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    (root / "autograder" / TINY_ASSIGNMENT / "test_add_one.py").write_text(TINY_TEST.lstrip())
    course = Course(root)
    release(course)
    return course


def tiny_submissions(course: Course, folder: Path, n: int) -> Path:
    body = reference_bodies(course, TINY_ASSIGNMENT)
    folder.mkdir(parents=True)
    for i in range(n):
        nbformat.write(filled_notebook(course.release_notebook(TINY_ASSIGNMENT), body), folder / f"s{i + 1:03d}.ipynb")
    return folder


def measure_overhead(workdir: Path, n: int) -> dict:
    """Per-submission overhead two ways: the batch's marginal cost ((T_n - T_1) / (n - 1), which
    cancels the fixed start-up) and the mean per-row ``seconds`` the grading process measures."""
    course = tiny_course(workdir / "tiny_course")
    runs = {}
    for count in (1, n):
        folder = tiny_submissions(course, workdir / f"tiny_{count}", count)
        runs[count] = run_rlgrade(course, TINY_ASSIGNMENT, folder, 1, folder)
    one, many = runs[1], runs[n]
    batch = (many["seconds"] - one["seconds"]) / (n - 1)
    return {
        "submissions": n,
        "batch_1_seconds": one["seconds"], "batch_n_seconds": many["seconds"],
        "fixed_startup_seconds": one["seconds"] - batch,
        "per_submission_batch_seconds": batch,
        "per_submission_row_seconds": many["row_seconds_mean"],
        "outside_grading_process_seconds": batch - many["row_seconds_mean"],
        "pool_task_seconds": pool_task_cost(workdir, max(n, 10), like_cli=True),
        "pool_task_seconds_bare_main": pool_task_cost(workdir, max(n, 10), like_cli=False),
        "course": course,
        "submission": min((workdir / f"tiny_{n}").glob("*.ipynb")),
        "load_after": load(),
    }


POOL_PROBE = '''
{cli_import}
import os, sys, time
from rlgrade.pool import run_tasks

if __name__ == "__main__":
    n, ends = int(sys.argv[1]), []
    for _key, _pid in run_tasks([(i, os.getpid, ()) for i in range(n + 1)], workers=1, deadline=60):
        ends.append(time.perf_counter())
    print((ends[-1] - ends[0]) / n)  # from the first task's end: the forkserver's own start-up excluded
'''


def pool_task_cost(workdir: Path, n: int, *, like_cli: bool) -> float:
    """Seconds per do-nothing task of rlgrade's pool (fork from the forkserver, pipe, exit). Each child
    imports the parent's main script again (multiprocessing's ``__mp_main__``): for ``rlgrade grade``
    that is the console script, hence ``rlgrade.cli`` (typer, rich); ``like_cli`` reproduces that."""
    script = workdir / f"pool_probe_{'cli' if like_cli else 'bare'}.py"
    script.write_text(POOL_PROBE.format(cli_import="from rlgrade.cli import app  # noqa: F401" if like_cli else ""))
    done = subprocess.run([sys.executable, str(script), str(n)], capture_output=True, text=True, env=command_env(),
                          check=True)
    return float(done.stdout.strip().splitlines()[-1])


def worker_starts(repeats: int) -> dict:
    """Seconds to a ready sandboxed worker: cold (bubblewrap + Python + torch) against forked from a zygote."""
    secrets = [REPO / "source", REPO / "solutions", REPO / "autograder"]
    cold = [timed_worker(lambda: Worker(limits=Limits(), secrets=secrets)) for _ in range(repeats)]
    zygote = Zygote(secrets=secrets)
    started = time.perf_counter()
    zygote.wait_ready()
    zygote_seconds = time.perf_counter() - started
    try:
        warm = [timed_worker(lambda: Worker(limits=Limits(), zygote=zygote.control)) for _ in range(repeats * 3)]
    finally:
        zygote.close()
    return {"cold_seconds": cold, "warm_seconds": warm, "cold_mean": statistics.mean(cold),
            "warm_mean": statistics.mean(warm), "zygote_ready_seconds": zygote_seconds, "load_after": load()}


def timed_worker(start) -> float:
    began = time.perf_counter()
    worker = start()
    seconds = time.perf_counter() - began
    worker.kill()
    return seconds


# ---------------------------------------------------------------- fixed start-up: what a batch pays once

def startup_parts(course: Course, assignment: str) -> dict:
    """Wall seconds of the steps ``rlgrade grade`` takes before its first submission, each in a fresh
    interpreter (they run one after the other in a real batch; a zygote's boot is in ``worker_start``)."""
    imports = ", ".join(PRELOAD)
    return {
        # rlgrade.notebook imports nbformat, whose jsonschema builds rfc3987_syntax's grammar on import
        "python + import rlgrade.cli (typer, rich, nbformat, jsonschema)": python_seconds("import rlgrade.cli"),
        "python + import rlgrade.grade (+ torch, pytest, hypothesis)": python_seconds("import rlgrade.grade"),
        "forkserver preload (python + " + imports + ")": python_seconds(f"import {imports}"),
        "hidden-test inventory (pytest --collect-only, after preload)": python_seconds(
            f"import time\nimport {imports}\nfrom pathlib import Path\nfrom rlgrade.course import Course\n"
            f"from rlgrade.grade import hidden_test_points\nstarted = time.perf_counter()\n"
            f"hidden_test_points(Course(Path({str(course.root)!r})), {assignment!r})\n"
            "print(time.perf_counter() - started)", report_own=True),
    }


def python_seconds(code: str, *, report_own: bool = False) -> float:
    """Wall seconds of ``python -c code`` (or, with ``report_own``, the seconds it prints itself)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=command_env(), check=True)
    return float(done.stdout.strip().splitlines()[-1]) if report_own else time.perf_counter() - started


# ---------------------------------------------------------------- profile: one grading process

# (label, file the function is in, function): cumulative seconds reported by the profile
PROFILED = [
    ("grade_submission (all of it)", "rlgrade/grade.py", "grade_submission"),
    ("read + check the notebook (nbformat)", "rlgrade/submission.py", "read_submission"),
    ("start the worker (fork from zygote, run cells)", "rlgrade/testing/student.py", "start"),
    ("pytest.main (hidden tests)", "_pytest/config/__init__.py", "main"),
    ("  pytest config + plugin autoload", "_pytest/config/__init__.py", "_prepareconfig"),
    ("  collection (imports test modules, reference)", "_pytest/main.py", "perform_collect"),
    ("  replaying the batch's recorded cases", "rlgrade/testing/casebook.py", "replay_passes"),
    ("  hypothesis: generate phase (draws + test runs)", "conjecture/engine.py", "generate_new_test_cases"),
    ("  hypothesis: shrink phase (failing tests only)", "conjecture/engine.py", "shrink_interesting_test_cases"),
    ("  - of which drawing inputs", "hypothesis/control.py", "prep_args_kwargs_from_strategies"),
    ("  - of which worker round trips (student code, codec)", "rlgrade/sandbox.py", "request"),
    ("  - of which encoding calls, decoding results (codec)", "rlgrade/worker/codec.py", "encode"),
    ("  - of which comparisons (assert_close)", "rlgrade/testing/compare.py", "assert_close"),
    ("  - of which diagnosis (matching misconceptions)", "rlgrade/testing/diagnose.py", "diagnose"),
    ("public checks", "rlgrade/grade.py", "run_public_checks"),
]


def _profiled_grade(course_root: str, assignment: str, submission: SubmissionFile, options: GradeOptions,
                    zygote, cases: str | None) -> dict:
    """``rlgrade.grade``'s own task under cProfile, in a grading process like any other."""
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    row = _grade_task(course_root, assignment, submission, options, zygote, cases)
    profile.disable()
    stats = pstats.Stats(profile).stats
    breakdown = {label: cumulative(stats, where, name) for label, where, name in PROFILED}
    return {"wall_seconds": time.perf_counter() - started, "score": row["score"], "max_score": row["max_score"],
            "status": row["status"], "breakdown": breakdown,
            "worker_calls": calls(stats, "rlgrade/sandbox.py", "request"),
            "hypothesis_cases": calls(stats, "hypothesis/core.py", "execute_once"),
            "top": top_functions(stats, 15)}


def cumulative(stats: dict, where: str, name: str) -> float:
    return round(max((value[3] for (path, _line, func), value in stats.items()
                      if func == name and path.endswith(where)), default=0.0), 3)


def calls(stats: dict, where: str, name: str) -> int:
    return max((value[1] for (path, _line, func), value in stats.items() if func == name and path.endswith(where)),
               default=0)


def top_functions(stats: dict, count: int) -> list[tuple[str, float]]:
    """The functions that spend the most time themselves (``tottime``)."""
    ranked = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:count]
    return [(f"{Path(path).name}:{line}({func})", round(value[2], 3)) for (path, line, func), value in ranked]


def profile_grading(course: Course, assignment: str, submissions: list[SubmissionFile]) -> list[dict]:
    """Each submission graded in rlgrade's pool, from a warm worker, with the recorded cases a batch
    has, under cProfile (which slows it down)."""
    secrets = [*course.secrets(), *{s.path.parent for s in submissions}]
    cases = record_in_pool(course, assignment, GradeOptions(), deadline=1800)
    tasks = [(s.student, _profiled_grade, (str(course.root), assignment, s, GradeOptions(), SLOT, cases))
             for s in submissions]
    with ZygotePool(1, secrets=secrets) as zygotes:
        return [{"student": key, "assignment": assignment, **outcome} if isinstance(outcome, dict)
                else {"student": key, "assignment": assignment, "failed": asdict(outcome)}
                for key, outcome in run_tasks(tasks, workers=1, deadline=1800, slot_resource=zygotes.control)]


def profiled_students(course_dir: Path, assignment: str, report: dict) -> list[SubmissionFile]:
    """One correct submission and one with a planted bug (shrinking and diagnosis cost only there)."""
    correct = next((s["student"] for s in report["students"] if not s["bugs"]), None)
    buggy = next((s["student"] for s in report["students"] if s["bugs"]), None)
    return [SubmissionFile(student, course_dir / "submitted" / student / assignment / PROBLEM_SET)
            for student in (correct, buggy) if student]


# ---------------------------------------------------------------- the report

def summarize(report: dict) -> dict:
    """Throughputs, ratios, and how they compare with the issue's targets."""
    runs = {name: report[name] for name in ("nbgrader", "rlgrade_1_worker", "rlgrade_2_workers") if name in report}
    for run in runs.values():
        run["per_second"] = run["submissions"] / run["seconds"]
    summary: dict = {}
    nb, one, two = runs.get("nbgrader"), runs.get("rlgrade_1_worker"), runs.get("rlgrade_2_workers")
    if nb and one:
        summary["rlgrade_1_vs_nbgrader"] = one["per_second"] / nb["per_second"]
        if nb.get("per_submission_marginal_seconds"):
            # start-up excluded on both sides: nbgrader's marginal cost against rlgrade's per-row seconds
            summary["steady_state_rlgrade_1_vs_nbgrader"] = nb["per_submission_marginal_seconds"] / one["row_seconds_mean"]
    if nb and two:
        summary["rlgrade_2_vs_nbgrader"] = two["per_second"] / nb["per_second"]
    if one and two:
        summary["scaling_2_over_1"] = two["per_second"] / one["per_second"]
        summary["same_scores_1_and_2_workers"] = one["scores"] == two["scores"]
        # near 1 when each slot had a core to itself; near 2 when the two slots shared one (a busy machine)
        summary["row_seconds_2_over_1"] = two["row_seconds_mean"] / one["row_seconds_mean"]
    if nb and one:
        agree = [s for s in nb["failed_checks"] if nb["failed_checks"][s] == one["failed_checks"].get(s)]
        summary["public_checks_agree_with_nbgrader"] = f"{len(agree)}/{len(nb['failed_checks'])}"
    if one and "students" in report:
        buggy = [s["student"] for s in report["students"] if s["bugs"]]
        caught = [s for s in buggy if one["scores"][s] < one["max_score"]]
        correct = [s["student"] for s in report["students"] if not s["bugs"]]
        summary["planted_bugs_caught"] = f"{len(caught)}/{len(buggy)}"
        summary["correct_full_marks"] = f"{sum(one['scores'][s] == one['max_score'] for s in correct)}/{len(correct)}"
        # a failing hidden test is shrunk to its smallest counterexample: wrong answers cost more
        summary["row_seconds_correct_mean"] = mean_or_none([one["row_seconds"][s] for s in correct])
        summary["row_seconds_buggy_mean"] = mean_or_none([one["row_seconds"][s] for s in buggy])
    if "overhead" in report:
        summary["overhead_batch_seconds"] = report["overhead"]["per_submission_batch_seconds"]
        summary["overhead_row_plus_pool_seconds"] = (report["overhead"]["per_submission_row_seconds"]
                                                     + report["overhead"]["pool_task_seconds"])
    best = max((summary.get(k, 0.0) for k in ("rlgrade_1_vs_nbgrader", "rlgrade_2_vs_nbgrader")), default=0.0)
    summary["targets"] = {
        "throughput >= 20x nbgrader": met(best, TARGETS["speedup_vs_nbgrader"], "rlgrade_1_vs_nbgrader" in summary),
        "overhead <= 0.2 s/submission": met(-summary.get("overhead_batch_seconds", 0.0), -TARGETS["overhead_seconds"],
                                            "overhead_batch_seconds" in summary),
        "2 workers >= 1.8x 1 worker": met(summary.get("scaling_2_over_1", 0.0), TARGETS["scaling_2_over_1"],
                                          "scaling_2_over_1" in summary),
    }
    return summary


def mean_or_none(values: list[float]) -> float | None:
    return statistics.mean(values) if values else None


def met(value: float, target: float, measured: bool) -> str:
    if not measured:
        return "not measured"
    return "met" if value >= target else "MISSED"


def print_report(report: dict) -> None:
    m = report["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['memory_gib']} GiB, "
          f"Linux {m['kernel']}; python {m['python']}, torch {m['torch']}, nbgrader {m['nbgrader']}, "
          f"hypothesis {m['hypothesis']}, pytest {m['pytest']}; as root: {m['root']}; rlgrade at {m['commit']}"
          f"{' with uncommitted changes in src/' if m['src_modified'] else ''}")
    print(f"load average (1/5/15 min): start {report['load_start']}, end {report['load_end']}")
    print(f"assignment {report['assignment']}, {report['n']} submissions (seed {report['seed']}, "
          f"{sum(bool(s['bugs']) for s in report['students'])} with planted bugs)\n")
    print(f"{'grader':<22}{'submissions':>12}{'wall s':>10}{'subm/s':>10}{'s/subm':>10}")
    for name, label in (("nbgrader", "nbgrader autograde"), ("rlgrade_1_worker", "rlgrade, 1 worker"),
                        ("rlgrade_2_workers", "rlgrade, 2 workers")):
        run = report.get(name)
        if run:
            print(f"{label:<22}{run['submissions']:>12}{run['seconds']:>10.1f}{run['per_second']:>10.3f}"
                  f"{run['seconds'] / run['submissions']:>10.2f}")
    s = report["summary"]
    print()
    for key, label in (("rlgrade_1_vs_nbgrader", "throughput, rlgrade 1 worker / nbgrader"),
                       ("rlgrade_2_vs_nbgrader", "throughput, rlgrade 2 workers / nbgrader"),
                       ("steady_state_rlgrade_1_vs_nbgrader", "start-up excluded, rlgrade 1 worker / nbgrader"),
                       ("scaling_2_over_1", "2 workers / 1 worker"),
                       ("row_seconds_2_over_1", "seconds per row, 2 workers / 1 worker (contention)"),
                       ("overhead_batch_seconds", "overhead per submission, batch-derived (s)"),
                       ("overhead_row_plus_pool_seconds", "overhead per submission, row seconds + pool task (s)")):
        if key in s:
            print(f"{label:<54}{s[key]:>8.3f}")
    for key in ("same_scores_1_and_2_workers", "public_checks_agree_with_nbgrader", "planted_bugs_caught",
                "correct_full_marks"):
        if key in s:
            print(f"{key.replace('_', ' '):<54}{s[key]!s:>8}")
    nb = report.get("nbgrader")
    if nb:
        print(f"nbgrader: 1 submission {nb['one_submission_seconds']:.1f} s; per further submission "
              f"{nb['per_submission_marginal_seconds'] or 0:.2f} s")
    one = report.get("rlgrade_1_worker")
    if one:
        print(f"rlgrade rows: all graded, mean score {one['mean_score']:.2f}/{one['max_score']:g}, "
              f"{one['full_marks']} full marks, {one['hidden_tests_per_submission']:.0f} hidden tests each; "
              f"seconds per row (inside the grading process): mean {one['row_seconds_mean']:.2f}, "
              f"correct submissions {s.get('row_seconds_correct_mean') or 0:.2f}, "
              f"with a bug {s.get('row_seconds_buggy_mean') or 0:.2f}")
    if "overhead" in report:
        o = report["overhead"]
        print(f"trivial course: 1 submission {o['batch_1_seconds']:.1f} s, {o['submissions']} submissions "
              f"{o['batch_n_seconds']:.1f} s; fixed start-up {o['fixed_startup_seconds']:.1f} s; per submission: "
              f"row {o['per_submission_row_seconds']:.3f} s, outside the grading process "
              f"{o['outside_grading_process_seconds']:.3f} s (a bare pool task {o['pool_task_seconds']:.3f} s, "
              f"{o['pool_task_seconds_bare_main']:.3f} s without rlgrade.cli as __main__)")
    if "worker_start" in report:
        w = report["worker_start"]
        print(f"worker start: cold {w['cold_mean']:.2f} s, warm (zygote fork) {w['warm_mean'] * 1000:.0f} ms, "
              f"zygote ready in {w['zygote_ready_seconds']:.2f} s")
    if "startup" in report:
        print("fixed start-up, step by step (fresh interpreters):")
        for label, seconds in report["startup"].items():
            print(f"  {label:<80}{seconds:>6.2f} s")
    for profile in report.get("profile", []):
        if "breakdown" not in profile:
            print(f"profile of {profile['student']} failed: {profile['failed']}")
            continue
        print(f"\nprofile of one grading process ({profile['assignment']} {profile['student']}, "
              f"{profile['score']:g}/{profile['max_score']:g}; {profile['hypothesis_cases']} hypothesis cases, "
              f"{profile['worker_calls']} worker calls; cProfile slows it down):")
        for label, seconds in profile["breakdown"].items():
            print(f"  {label:<56}{seconds:>8.2f} s")
    print("\ntargets: " + ", ".join(f"{k}: {v}" for k, v in s["targets"].items()))


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    repo = Course(REPO)
    repo.require(args.lesson)
    report: dict = {"date": date.today().isoformat(), "assignment": args.lesson, "n": args.n, "seed": args.seed,
                    "machine": machine(), "load_start": load()}
    workdir = Path(tempfile.mkdtemp(prefix="rlgrade-throughput-"))
    try:
        course_dir = workdir / "nbgrader_course"
        report["students"] = write_submissions(repo, args.lesson, course_dir, args.n, args.seed)
        progress(f"{args.n} submissions in {course_dir / 'submitted'}")
        if "nbgrader" not in args.skip:
            nbgrader_course(course_dir, repo, args.lesson, [s["student"] for s in report["students"]])
            report["nbgrader"] = run_nbgrader(course_dir, args.lesson, [s["student"] for s in report["students"]])
            progress(f"nbgrader: {report['nbgrader']['seconds']:.1f} s")
        if "rlgrade" not in args.skip:
            for workers, name in ((1, "rlgrade_1_worker"), (2, "rlgrade_2_workers")):
                report[name] = run_rlgrade(repo, args.lesson, course_dir / "submitted", workers, workdir)
                progress(f"rlgrade, {workers} worker(s): {report[name]['seconds']:.1f} s")
        if "overhead" not in args.skip:
            report["overhead"] = measure_overhead(workdir, args.tiny_n)
            report["worker_start"] = worker_starts(args.repeats)
            progress("overhead measured")
        if "startup" not in args.skip:
            report["startup"] = startup_parts(repo, args.lesson)
            progress("start-up measured")
        if "profile" not in args.skip:
            report["profile"] = profile_grading(repo, args.lesson, profiled_students(course_dir, args.lesson, report))
            if "overhead" in report:
                tiny = report["overhead"]
                report["profile"] += profile_grading(tiny["course"], TINY_ASSIGNMENT,
                                                     [SubmissionFile(tiny["submission"].stem, tiny["submission"])])
    finally:
        if args.keep:
            progress(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report["load_end"] = load()
    report["summary"] = summarize(report)
    print_report(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "throughput.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwritten to {args.out / 'throughput.json'}")
    return report


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {load()[0]}] {message}", flush=True)


if __name__ == "__main__":
    main()
