"""``rlgrade export gradescope``: an autograder zip that grades uploads with rlgrade on Gradescope.

Gradescope builds an image from the zip (running ``setup.sh`` once, as root), unpacks it to
``/autograder/source``, and for every submission runs ``/autograder/run_autograder``, which
must write ``/autograder/results/results.json``
(https://gradescope-autograders.readthedocs.io/en/latest/specs/). The zip carries what grading
one assignment needs — its hidden tests, reference, release and source notebooks, in the
course's own layout under ``course/`` — and rlgrade's source under ``rlgrade/``.
``run_autograder`` calls :func:`run_autograder` here: the upload is graded exactly as
``rlgrade grade`` would (sandboxed worker, same hidden inputs), and the row is converted by
:func:`results_json`, a pure function.

What students see follows ``rlgrade feedback``: public examples and warnings at once; each
question's hidden tests (titles, points, the misconception a failure matches) once the grades
are published; hidden tests' messages and inputs never, unless exported with ``reveal``.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
import time
import traceback
import zipfile
from importlib import metadata
from pathlib import Path

from rlgrade.course import Course

ROOT_ENV = "RLGRADE_GRADESCOPE_ROOT"
"""Where the autograder tree is (Gradescope: ``/autograder``); ``run_autograder`` reads it too."""
DEFAULT_ROOT = "/autograder"
VENV = "/opt/rlgrade-venv"
"""The virtualenv ``setup.sh`` makes (outside ``/autograder``: the sandbox shows the worker the
Python installation, and must not show it the course)."""
CONFIG = "rlgrade-gradescope.json"
PINNED = ("torch", "numpy", "hypothesis", "pytest", "nbformat")
"""Pinned in the zip to the exporting machine's versions: the hidden inputs hypothesis draws,
and the numerics they are compared with, then match local grading."""
ZIP_TIME = (2020, 1, 1, 0, 0, 0)
"""Every entry's timestamp: the same course exports byte-identical zips."""
SKIPPED_PARTS = ("__pycache__", ".hypothesis", ".ipynb_checkpoints", ".pytest_cache")


class UploadError(ValueError):
    """The upload holds no single notebook (or .py) to grade; the message is for the student."""


# ---------------------------------------------------------------- the zip

def build_autograder(course: Course, assignment: str, out: Path, *, reveal: bool = False, sandbox: bool = True,
                     secret: str | None = None) -> Path:
    """Write the autograder zip for ``assignment`` to ``out``.

    ``sandbox=False`` lets uploads run unisolated where bubblewrap cannot (a submission could
    then read the hidden tests and write its own results). ``secret`` (the course's
    ``RLGRADE_SECRET``) is stored in the zip, so that Gradescope draws the same hidden inputs.
    """
    course.require(assignment)
    files = [*course_files(course, assignment), *rlgrade_source()]
    config = {"assignment": assignment, "reveal": reveal, "sandbox": sandbox, "secret": secret}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        add(archive, "setup.sh", render("setup.sh.j2", assignment), executable=True)
        add(archive, "run_autograder", render("run_autograder.j2", assignment), executable=True)
        add(archive, CONFIG, json.dumps(config, indent=2) + "\n")
        add(archive, "constraints.txt", constraints())
        for name, path in files:
            add(archive, name, path.read_bytes())
    return out


def course_files(course: Course, assignment: str) -> list[tuple[str, Path]]:
    """(name in the zip, file) for what grading ``assignment`` reads, in the course's layout under ``course/``."""
    needed = [course.source_notebook(assignment), course.release_notebook(assignment),
              course.solution_module(assignment)]
    for path in needed:
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: run `rlgrade release` first")
    tests = course.tests_dir(assignment)
    if not tests.is_dir():
        raise FileNotFoundError(f"no hidden tests for {assignment}: {tests} does not exist")
    shared = [course.autograder / name for name in ("__init__.py", "conftest.py")]
    needed += [p for p in shared if p.is_file()] + tree(tests)
    return [(f"course/{p.relative_to(course.root).as_posix()}", p) for p in needed]


def rlgrade_source() -> list[tuple[str, Path]]:
    """(name in the zip, file) for an installable copy of rlgrade: its project files and ``src/rlgrade``."""
    package = Path(__file__).resolve().parent
    project = package.parents[1]
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file() or 'name = "rlgrade"' not in pyproject.read_text(encoding="utf-8"):
        raise FileNotFoundError(f"rlgrade at {package} is not a source checkout (no pyproject.toml beside src/): "
                                "the autograder bundles rlgrade's source, so install it with `pip install -e`")
    files = [pyproject, project / "README.md", *tree(package)]
    return [(f"rlgrade/{p.relative_to(project).as_posix()}", p) for p in files if p.is_file()]


def tree(directory: Path) -> list[Path]:
    """Every file under ``directory``, without caches and compiled files."""
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix != ".pyc"
                  and not any(part in SKIPPED_PARTS for part in p.relative_to(directory).parts))


def constraints() -> str:
    """pip constraints pinning the grading libraries to this machine's versions (local labels dropped:
    ``torch==2.4.1`` accepts the CPU index's ``2.4.1+cpu``)."""
    return "".join(f"{name}=={metadata.version(name).split('+')[0]}\n" for name in PINNED)


def render(template_name: str, assignment: str) -> str:
    import jinja2  # noqa: PLC0415

    # shell scripts, not HTML: no autoescaping; the one free value is a checked assignment id
    env = jinja2.Environment(loader=jinja2.PackageLoader("rlgrade", "templates"), autoescape=False,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["shell"] = shlex.quote
    return env.get_template(template_name).render(assignment=assignment, venv=VENV)


def add(archive: zipfile.ZipFile, name: str, data: str | bytes, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(info, data)


# ---------------------------------------------------------------- results.json

def results_json(result, questions: list[str] | None = None, *, reveal: bool = False) -> dict:
    """One graded row (``rlgrade.grade.SubmissionResult``) in Gradescope's results.json schema.

    Per question (in ``questions``' order, then any others): a test worth the question's points
    holding its hidden tests, visible once grades are published; and, when the notebook has
    public checks for it, an unscored test with their outcome, visible at once. Warnings, or
    why the submission could not be graded, go in the top-level output, visible at once; the
    score itself is only in the scored tests and the total.
    """
    order = [*(questions or []), *sorted(set(result.questions) - set(questions or []))]
    tests = []
    for name in order:
        question = result.questions.get(name)
        if question is None:
            continue
        tests.append({"name": f"{name}: hidden tests", "score": question.score, "max_score": question.max_score,
                      "output": hidden_output(question, result.status, reveal), "visibility": "after_published"})
        public = [t for t in question.tests if t.public]
        if public:
            tests.append({"name": f"{name}: public examples (your notebook's checks)",
                          "status": "passed" if all(t.outcome == "passed" for t in public) else "failed",
                          "output": "\n".join(public_line(t) for t in public), "visibility": "visible"})
    return {
        "score": result.score,
        "output": top_output(result),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def hidden_output(question, status: str, reveal: bool) -> str:
    if status != "graded":
        return "not graded: see the message at the top"
    lines = []
    for t in (t for t in question.tests if not t.public):
        if t.outcome == "skipped":  # not graded here (a gpu test without CUDA): no points either way
            lines.append(f"skipped (not graded: {t.message})  {t.title or t.name}")
            continue
        lines.append(f"{t.outcome:<7} {t.points:g}/{t.max_points:g}  {t.title or t.name}")
        if t.outcome != "passed" and t.diagnosis:
            lines.append(f"        hint: this looks like a known mistake: {t.diagnosis}")
        if t.outcome != "passed" and reveal and t.message:
            lines += [f"        {line}" for line in t.message.splitlines()]
    return "\n".join(lines)


def public_line(test) -> str:
    return "passed" if test.outcome == "passed" else f"failed: {test.message}"


def top_output(result) -> str:
    if result.status != "graded":
        return (f"Your submission could not be graded:\n\n{result.error}\n\n"
                "Fix the problem above and submit again; nothing was graded.")
    text = ("Graded by rlgrade. Each question's hidden tests are shown once grades are published; "
            "the public examples (the check cells of your notebook) are shown now.")
    if result.warnings:
        text += "\n\nWarnings:\n" + "\n".join(f"- {w}" for w in result.warnings)
    return text


def error_results(message: str) -> dict:
    """results.json for an upload that was not graded at all (no per-question rows to show)."""
    return {"score": 0.0, "output": message, "output_format": "text", "stdout_visibility": "hidden", "tests": []}


# ---------------------------------------------------------------- on Gradescope

def run_autograder(root: Path) -> dict:
    """Grade the upload in ``root/submission`` and write ``root/results/results.json``, whatever happens."""
    started = time.monotonic()
    try:
        results = grade_upload(Path(root))
    except Exception as exc:  # noqa: BLE001 - Gradescope must get a results.json, and the staff the traceback
        traceback.print_exc()
        results = error_results(f"The autograder could not grade this submission ({type(exc).__name__}: {exc}). "
                                "Please tell the course staff.")
    results["execution_time"] = round(time.monotonic() - started, 1)
    path = Path(root) / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def grade_upload(root: Path) -> dict:
    """Grade the one notebook (or .py) in ``root/submission`` with the course in ``root/source``."""
    from rlgrade.grade import GradeOptions, grade  # noqa: PLC0415 - keeps `import rlgrade.gradescope` light
    from rlgrade.release import assignment_questions  # noqa: PLC0415
    from rlgrade.sandbox import sandbox_available  # noqa: PLC0415
    from rlgrade.testing.plugin import SECRET_ENV  # noqa: PLC0415

    config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
    course = Course(root / "source" / "course")
    assignment = config["assignment"]
    if config["sandbox"] and not sandbox_available():
        print("bubblewrap cannot create namespaces here; export with --no-sandbox to grade without isolation")
        return error_results("The autograder cannot isolate submissions on this machine, so it graded nothing. "
                             "Please tell the course staff.")
    try:
        upload = find_upload(root / "submission", course.release_notebook(assignment).name)
    except UploadError as exc:
        return error_results(str(exc))
    options = GradeOptions(sandbox=config["sandbox"], secret=config.get("secret") or os.environ.get(SECRET_ENV))
    with tempfile.TemporaryDirectory(prefix="rlgrade-gradescope-") as scratch:
        report = grade(course, assignment, [upload], gradebook_url=f"sqlite:///{scratch}/gradebook.db", options=options)
    [result] = report.results
    # stdout goes to the staff's log only: what the submission printed, the full row
    print(f"{upload.relative_to(root)}: {result.status}, {result.score:g}/{result.max_score:g}")
    print(json.dumps(result.to_json(), indent=2))
    if result.output:
        print(f"--- what the submission printed (tail) ---\n{result.output}")
    return results_json(result, assignment_questions(course, assignment), reveal=config.get("reveal", False))


def find_upload(folder: Path, notebook_name: str) -> Path:
    """The file to grade in an upload (one file, or a folder of them): its only notebook, or the one
    named like the release (``problem_set.ipynb``); a ``.py`` file when there is no notebook."""
    inside = folder.resolve()
    # a link (an uploaded zip can hold one) could point at the reference solution: never follow one
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
                   and p.resolve().is_relative_to(inside)
                   and not any(part.startswith(".") or part == "__MACOSX" for part in p.relative_to(folder).parts))
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    candidates = notebooks or [p for p in files if p.suffix == ".py"]
    named = [p for p in candidates if p.name == notebook_name]
    if len(candidates) == 1:
        return candidates[0]
    if len(named) == 1:
        return named[0]
    listed = ", ".join(p.relative_to(folder).as_posix() for p in files[:10]) or "nothing"
    if not candidates:
        raise UploadError(f"Your upload has no notebook (.ipynb) or .py file to grade (it holds: {listed}). "
                          f"Upload your {notebook_name}.")
    raise UploadError(f"Your upload has {len(candidates)} {'notebooks' if notebooks else '.py files'} and it is not "
                      f"clear which to grade (it holds: {listed}). Upload only your {notebook_name}.")


def main(argv: list[str] | None = None) -> int:
    """``python -m rlgrade.gradescope [ROOT]`` (what ``run_autograder`` runs); ROOT defaults to
    ``$RLGRADE_GRADESCOPE_ROOT`` or ``/autograder``."""
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else os.environ.get(ROOT_ENV, DEFAULT_ROOT))
    run_autograder(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
