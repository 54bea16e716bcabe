"""``rlgrade grade``: run an assignment's hidden tests against a batch of submissions.

Each submission is graded in its own short-lived grader process (``rlgrade.pool``),
which starts a sandboxed worker for the submission's code and runs the hidden tests
with pytest in-process, talking to the worker only through the call interface. The
parent schedules, stores each result as it arrives, and reports progress: a grader
process that crashes or overruns still yields a result row.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

from rlgrade.course import GPU_SUFFIX, Course
from rlgrade.notebook import NotebookError, public_checks, read_notebook
from rlgrade.pool import SLOT, TaskFailed, run_tasks
from rlgrade.sandbox import Limits, ZygotePool, sandbox_available
from rlgrade.submission import MAX_BYTES, SubmissionCode, read_submission
from rlgrade.testing import casebook
from rlgrade.testing.casebook import CaseBook, Recorder
from rlgrade.testing.plugin import (CASES_KEY, SECRET_ENV, SHRINK_MODES, STUDENT_KEY, TestOutcome, collected_curves,
                                    collected_results, counts_in_maximum, cuda_available, points_of, question_of)
from rlgrade.testing.student import InProcessBackend, SandboxBackend, Student, StudentError

SUBMISSION_SUFFIXES = (".ipynb", ".py")


@dataclass(frozen=True)
class SubmissionFile:
    """A submission found on disk."""

    student: str
    path: Path
    problem: str | None = None
    """Why it cannot be graded, found while discovering it (e.g. two notebooks in one folder)."""
    submitted_at: datetime | None = None
    """When it was submitted (nbgrader's ``timestamp.txt``, in UTC), if known."""
    notes: tuple[str, ...] = ()
    """Warnings found while discovering it (late, unknown submission time): they go on its row."""


@dataclass(frozen=True)
class QuestionResult:
    name: str
    score: float
    max_score: float
    tests: tuple[TestOutcome, ...]


@dataclass(frozen=True)
class SubmissionResult:
    """Everything grading one submission produced; the unit the gradebook stores."""

    student: str
    assignment: str
    path: str
    content_hash: str
    status: str
    """'graded' or 'error' (could not be graded at all: malformed, crashed on load, ...)."""
    error: str | None
    score: float
    max_score: float
    questions: dict[str, QuestionResult]
    warnings: tuple[str, ...] = ()
    """Cells that raised while loading, and similar problems that did not stop grading."""
    output: str = ""
    """The tail of what the submission printed."""
    seconds: float = 0.0
    grader_hash: str = ""
    """Which hidden tests, reference and release graded it (``grading_key``): a rerun skips a
    submission whose current row has the same file and the same key."""
    curves: tuple[dict, ...] = ()
    """The learning curves of its training runs (GPU-marked tasks), for its feedback page:
    ``{"task", "model", "log": [{"step", "loss", ...}]}`` each (``rlgrade.testing.training.stored_curves``).
    Not part of the grade nor of :meth:`to_json`: a GPU need not train the same way twice."""

    def to_json(self) -> dict:
        """The documented JSON shape (no timings, so that regrades compare equal)."""
        return {
            "student": self.student,
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "error": self.error,
            "content_hash": self.content_hash,
            "warnings": list(self.warnings),
            "questions": {
                name: {
                    "score": q.score,
                    "max_score": q.max_score,
                    "tests": [{"name": t.name, "outcome": t.outcome, "points": t.points, "max_points": t.max_points,
                               "message": t.message, "kind": t.kind, "diagnosis": t.diagnosis}
                              for t in q.tests if not t.public],
                    "public_checks": [{"name": t.name, "outcome": t.outcome, "message": t.message}
                                      for t in q.tests if t.public],
                }
                for name, q in sorted(self.questions.items())
            },
        }


@dataclass(frozen=True)
class GradeOptions:
    """How to grade; shared by every submission of a batch."""

    sandbox: bool = True
    """Run submissions under bubblewrap (refuse to grade if it is missing)."""
    limits: Limits = Limits()
    """Per-worker resource limits and per-call deadline."""
    submission_seconds: float = 1200.0
    """Wall-clock budget for one submission, all tests included. Generous on purpose: shrinking
    a wrong answer's counterexamples can take a minute per question, and running out of budget
    fails the remaining (possibly correct) questions. Hangs are bounded per call instead."""
    questions: tuple[str, ...] | None = None
    """Only these questions (default: all)."""
    max_bytes: int = MAX_BYTES
    """Larger submission files are refused unread (an error row)."""
    secret: str | None = field(default_factory=lambda: os.environ.get(SECRET_ENV), repr=False)
    """The course's grading secret (seeds the hidden inputs; see ``rlgrade.testing.plugin.SECRET_ENV``)."""
    shrink: str = "first"
    """Which failing property tests are shrunk to their smallest input: the first of each question,
    ``all`` or ``none`` (``rlgrade.testing.plugin.SHRINK_MODES``); scores are the same in every mode."""

    def __post_init__(self):
        if self.shrink not in SHRINK_MODES:  # else every submission's pytest would refuse it: a batch of error rows
            raise ValueError(f"shrink={self.shrink!r}: choose one of {', '.join(SHRINK_MODES)}")


@dataclass(frozen=True)
class GradeReport:
    assignment: str
    results: tuple[SubmissionResult, ...] = field(default_factory=tuple)
    kept: tuple[str, ...] = ()
    """Students whose unchanged submission was already graded by the same tests (not regraded)."""

    def to_json(self) -> list[dict]:
        return [r.to_json() for r in sorted(self.results, key=lambda r: r.student)]


# ---------------------------------------------------------------- discovery

def discover(paths: list[Path], *, assignment: str | None = None, due: datetime | None = None) -> list[SubmissionFile]:
    """Submissions named on the command line: files, or directories of them.

    A directory in nbgrader's layout (``submitted/<student>/<assignment>/``; needs ``assignment``)
    yields each student's notebook for that assignment with its submission time; given ``due``,
    a late one carries a note saying by how much.
    """
    found: list[SubmissionFile] = []
    for path in map(Path, paths):
        if path.is_file():
            found.append(SubmissionFile(path.stem, path))
        elif path.is_dir() and assignment and is_nbgrader_layout(path, assignment):
            found.extend(discover_nbgrader(path, assignment, due))
        elif path.is_dir():
            found.extend(discover_directory(path))
        else:
            raise FileNotFoundError(f"submission {path} does not exist")
    students = [s.student for s in found]
    duplicates = sorted({s for s in students if students.count(s) > 1})
    if duplicates:
        raise ValueError(f"more than one submission for student(s) {', '.join(duplicates)}")
    return sorted(found, key=lambda s: s.student)


def discover_directory(directory: Path) -> list[SubmissionFile]:
    found = []
    for child in sorted(directory.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_file() and child.suffix in SUBMISSION_SUFFIXES:
            found.append(SubmissionFile(child.stem, child))
        elif child.is_dir():
            notebooks = sorted(p for p in child.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            if len(notebooks) == 1:
                found.append(SubmissionFile(child.name, notebooks[0]))
            else:
                problem = "no notebook" if not notebooks else f"{len(notebooks)} notebooks (expected one)"
                found.append(SubmissionFile(child.name, child, problem=f"folder {child} holds {problem}"))
    return found


# nbgrader's course layout: submitted/<student>/<assignment>/<notebook>.ipynb + timestamp.txt

NOTE_PREFIXES = ("late by ", "submission time unknown")
"""How the notes discovery puts on a row begin (a rerun with another ``--due`` replaces them)."""


def is_nbgrader_layout(directory: Path, assignment: str) -> bool:
    """True for nbgrader's ``submitted/`` (or ``autograded/``): student folders holding ``<assignment>/``,
    and no submission outside an assignment folder (then it is a plain folder of submissions)."""
    children = [child for child in directory.iterdir() if not child.name.startswith(".")]

    def loose(path: Path) -> bool:
        return path.is_file() and path.suffix in SUBMISSION_SUFFIXES

    return any((child / assignment).is_dir() for child in children) and not any(
        loose(child) or (child.is_dir() and any(loose(p) for p in child.iterdir())) for child in children)


def discover_nbgrader(directory: Path, assignment: str, due: datetime | None = None) -> list[SubmissionFile]:
    """One submission per student folder that has ``<assignment>/`` (the other students did not submit it)."""
    found = []
    for student in sorted(directory.iterdir()):
        folder = student / assignment
        if student.name.startswith(".") or not folder.is_dir():
            continue
        submitted_at, unknown = submission_time(folder)
        notes = lateness_notes(submitted_at, unknown, due)
        notebook = submitted_notebook(folder, Course.notebook_name(assignment))
        if notebook is None:
            count = len(list(folder.glob("*.ipynb")))
            problem = f"folder {folder} holds " + (f"{count} notebooks, none named {Course.notebook_name(assignment)}"
                                                   if count else "no notebook")
            found.append(SubmissionFile(student.name, folder, problem=problem, submitted_at=submitted_at, notes=notes))
        else:
            found.append(SubmissionFile(student.name, notebook, submitted_at=submitted_at, notes=notes))
    return found


def submitted_notebook(folder: Path, name: str) -> Path | None:
    """The notebook nbgrader would grade (``name``, the release's), or the only one there (renamed)."""
    notebooks = sorted(folder.glob("*.ipynb"))
    named = folder / name
    if named in notebooks:
        return named
    return notebooks[0] if len(notebooks) == 1 else None


def submission_time(folder: Path) -> tuple[datetime | None, str | None]:
    """(when, None) from the folder's ``timestamp.txt``, or (None, why it is unknown)."""
    path = folder / "timestamp.txt"
    if not path.is_file():
        return None, "no timestamp.txt"
    text = path.read_text(encoding="utf-8", errors="replace")[:200].strip()
    try:
        return parse_timestamp(text), None
    except ValueError:
        return None, f"timestamp.txt holds {text!r}, not a time"


def parse_timestamp(text: str) -> datetime:
    """A time as nbgrader writes it (``2024-03-01 12:05:00.123456 UTC``, its default format) or in
    ISO 8601 (``2024-03-01T14:05+02:00``), in UTC; a time without a zone is UTC, as in nbgrader."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        stamp, _, zone = text.rpartition(" ")
        moment = datetime.fromisoformat(stamp).replace(tzinfo=time_zone(zone))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def time_zone(name: str):
    """A zone as strftime's ``%Z`` or ``%z`` writes it: ``UTC``, ``Europe/Berlin``, ``CET``, ``+0200``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    if name.upper() in ("UTC", "GMT", "Z"):
        return timezone.utc
    if len(name) == 5 and name[0] in "+-" and name[1:].isdigit():
        offset = timedelta(hours=int(name[1:3]), minutes=int(name[3:]))
        return timezone(-offset if name[0] == "-" else offset)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def lateness_notes(submitted_at: datetime | None, unknown: str | None, due: datetime | None) -> tuple[str, ...]:
    """The row's note on a late (or undated) submission; none without a due date. Scores are not changed."""
    if due is None:
        return ()
    if submitted_at is None:
        return (f"submission time unknown ({unknown}): cannot tell whether it is late",)
    if submitted_at <= due:
        return ()
    return (f"late by {format_delay(submitted_at - due)} (submitted {utc_text(submitted_at)}, due {utc_text(due)})",)


def format_delay(delay: timedelta) -> str:
    """``2 h 5 min``, ``1 d 0 h 3 min``, ``40 s``: as long as it needs to be, no longer."""
    days, rest = divmod(int(delay.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if not (days or hours or minutes):
        return f"{seconds} s"
    parts = [f"{days} d"] if days else []
    if days or hours:
        parts.append(f"{hours} h")
    return " ".join([*parts, f"{minutes} min"])


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def discovery_notes(warnings: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The notes discovery put among a row's warnings."""
    return tuple(w for w in warnings if w.startswith(NOTE_PREFIXES))


def content_hash(path: Path) -> str:
    if not path.is_file():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- one submission

def open_submission(path: Path, *, sandbox: bool = True, limits: Limits = Limits(), secrets: list[Path] = (),
                    budget_seconds: float = 1200.0, code: SubmissionCode | None = None,
                    zygote=None) -> SandboxBackend:
    """A (not yet started) worker backend for a submission file (or its already-read ``code``);
    its workers fork from ``zygote`` (a warm factory's control socket) when one is given."""
    if sandbox and not sandbox_available():
        raise RuntimeError("bubblewrap is not available: install it (apt-get install bubblewrap) or pass --no-sandbox")
    code = code or read_submission(path)
    return SandboxBackend([list(c) for c in code.cells], filename=path.name, limits=limits, sandbox=sandbox,
                          secrets=list(secrets), budget_seconds=budget_seconds, zygote=zygote)


class _Inject:
    """Hands the session's Student (and the batch's recorded cases) to the hidden tests and keeps their outcomes."""

    def __init__(self, student: Student, cases: CaseBook | None = None):
        self.student = student
        self.cases = cases
        self.outcomes: list[TestOutcome] = []
        self.curves: list[dict] = []

    def pytest_configure(self, config) -> None:
        config.stash[STUDENT_KEY] = self.student
        if self.cases:
            config.stash[CASES_KEY] = self.cases

    def pytest_sessionfinish(self, session) -> None:
        self.outcomes = collected_results(session.config)
        self.curves = collected_curves(session.config)


def pytest_args(course: Course, assignment: str) -> list[str]:
    """pytest's command line for an assignment's hidden tests, independent of any project config."""
    tests = course.tests_dir(assignment)
    if not tests.is_dir():
        raise FileNotFoundError(f"no hidden tests for {assignment}: {tests} does not exist")
    # no:unraisableexception: its two full garbage collections at the end cost 0.5 s a submission;
    # --disable-plugin-autoload: loading every installed pytest plugin (anyio, timeout, ...) again in
    # each grading process cost 0.08 s; the hidden tests need only hypothesis' and ours;
    # --tb=native: pytest's own traceback parses every frame's source file (hypothesis' too) to show
    # statements, about 0.4 s per failing test, for a report nobody reads (messages come from the exception)
    return [str(tests), "-q", "--tb=native", "--disable-plugin-autoload", "-p", "_hypothesis_pytestplugin",
            "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "rlgrade.testing.plugin",
            "--strict-markers", f"--rootdir={course.root}", "-o", "addopts=", "-o", "testpaths=",
            "-W", "ignore::pytest.PytestAssertRewriteWarning"]


def run_hidden_tests(course: Course, assignment: str, student: Student, *, questions: tuple[str, ...] | None = None,
                     profile: str = "grading", secret: str | None = None, curves: list | None = None,
                     cases: CaseBook | None = None, plugins: tuple = (), shrink: str = "first") -> list[TestOutcome]:
    """Run ``autograder/<assignment>/`` against ``student`` in this process; ``curves``, a list, gets
    the learning curves of the training runs the tests made (GPU-marked tasks); ``cases``: the
    batch's recorded hypothesis cases, replayed first (:mod:`rlgrade.testing.casebook`)."""
    import pytest  # noqa: PLC0415

    args = pytest_args(course, assignment) + [f"--rlgrade-profile={profile}", f"--rlgrade-shrink={shrink}"]
    if secret:
        args.append(f"--rlgrade-secret={secret}")
    if questions:
        args.append(f"--rlgrade-questions={','.join(questions)}")
    inject = _Inject(student, cases)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), cached_assertion_rewrites():
        code = pytest.main(args, plugins=[inject, *plugins])
    if code not in (0, 1) or not inject.outcomes:
        raise RuntimeError(f"hidden tests for {assignment} could not run (pytest exit {int(code)}):\n{sink.getvalue()[-3000:]}")
    if curves is not None:
        curves.extend(inject.curves)
    return inject.outcomes


@contextlib.contextmanager
def cached_assertion_rewrites():
    """Let pytest keep its assertion-rewritten test modules in ``__pycache__``, even under
    PYTHONDONTWRITEBYTECODE: rewriting a lesson's hidden tests again for every submission cost
    about a second each."""
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


class _Inventory:
    """Collects (question, points) of every hidden test without running any; a test that would be
    skipped here (``gpu`` without CUDA) names its question but adds no points, as when graded."""

    def __init__(self):
        self.points: dict[str, float] = {}

    def pytest_collection_finish(self, session) -> None:
        for item in session.items:
            question = question_of(item)
            points = points_of(item) if counts_in_maximum(item) else 0.0
            self.points[question] = self.points.get(question, 0.0) + points


def hidden_test_points(course: Course, assignment: str) -> dict[str, float]:
    """question → the points its hidden tests are worth (collection only)."""
    import pytest  # noqa: PLC0415

    inventory = _Inventory()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(pytest_args(course, assignment) + ["--collect-only"], plugins=[inventory])
    if code != 0:
        raise RuntimeError(f"hidden tests for {assignment} do not collect (pytest exit {int(code)}):\n{sink.getvalue()[-3000:]}")
    return inventory.points


def recorded_cases(course: Course, assignment: str, options: GradeOptions) -> str:
    """The hidden tests' generated cases for a batch graded with ``options``, drawn once, against
    the reference (trusted, in this process): what each submission replays first."""
    from rlgrade.validate import variant_namespace  # noqa: PLC0415 - validate imports this module

    recorder = Recorder()
    reference = Student(InProcessBackend(variant_namespace(course, assignment, {})))
    run_hidden_tests(course, assignment, reference, questions=options.questions, secret=options.secret,
                     plugins=(recorder,))
    return casebook.dumps(recorder.book)


def run_public_checks(course: Course, assignment: str, backend, questions: tuple[str, ...] | None) -> list[TestOutcome]:
    """The release notebook's own check cells (never the student's copy of them), one call each."""
    path = course.release_notebook(assignment)
    outcomes = []
    for grade_id, source in public_checks(read_notebook(path)):
        question = grade_id.removeprefix("check_")
        if questions and question not in questions:
            continue
        try:
            response = backend.request({"op": "check", "fn": grade_id, "source": source})
        except StudentError as exc:
            response = {"ok": False, "error": {"type": "StudentError", "message": str(exc)}}
        error = response.get("error") or {}
        message = None if response.get("ok") else public_message(str(error.get("type")), str(error.get("message", "")))
        outcomes.append(TestOutcome(name=grade_id, question=question, outcome="passed" if message is None else "failed",
                                    points=0.0, max_points=0.0, message=message, title="the notebook's public examples",
                                    public=True))
    return outcomes


def public_message(kind: str, message: str) -> str:
    if kind == "NotImplementedError":
        return "not implemented yet (the function still raises NotImplementedError)"
    return message if kind in ("AssertionError", "StudentError") else f"{kind}: {message}"


def with_max_scores(result: SubmissionResult, points: dict[str, float]) -> SubmissionResult:
    """An error row with every question at 0 of its points, so totals and CSV columns line up."""
    questions = {q: QuestionResult(q, 0.0, p, ()) for q, p in points.items()}
    return replace(result, questions=questions, max_score=sum(points.values()))


def summarize(submission: SubmissionFile, assignment: str, outcomes: list[TestOutcome], warnings=(), output="",
              seconds=0.0, curves=()) -> SubmissionResult:
    by_question: dict[str, list[TestOutcome]] = {}
    for outcome in outcomes:
        by_question.setdefault(outcome.question, []).append(outcome)
    questions = {
        name: QuestionResult(name, sum(t.points for t in tests), sum(t.max_points for t in tests), tuple(tests))
        for name, tests in by_question.items()
    }
    return SubmissionResult(
        student=submission.student, assignment=assignment, path=str(submission.path),
        content_hash=content_hash(submission.path), status="graded", error=None,
        score=sum(q.score for q in questions.values()), max_score=sum(q.max_score for q in questions.values()),
        questions=questions, warnings=tuple(warnings), output=output, seconds=seconds, curves=tuple(curves),
    )


def error_result(submission: SubmissionFile, assignment: str, message: str, output: str = "",
                 seconds: float = 0.0) -> SubmissionResult:
    return SubmissionResult(
        student=submission.student, assignment=assignment, path=str(submission.path),
        content_hash=content_hash(submission.path), status="error", error=message, score=0.0, max_score=0.0,
        questions={}, output=output, seconds=seconds,
    )


def grade_submission(course: Course, assignment: str, submission: SubmissionFile, options: GradeOptions,
                     zygote=None, cases: str | None = None) -> SubmissionResult:
    """Grade one submission in this process (its code runs in a sandboxed worker, forked from
    ``zygote`` when one is given; ``cases``: the batch's recorded cases, :func:`recorded_cases`)."""
    started = time.monotonic()
    if submission.problem:
        return error_result(submission, assignment, submission.problem)
    try:
        code = read_submission(submission.path, course.release_notebook(assignment), max_bytes=options.max_bytes)
    except NotebookError as exc:
        return error_result(submission, assignment, str(exc))
    # the submissions' folder is a secret too: the sandbox refuses to start if a mount would show it
    backend = open_submission(submission.path, sandbox=options.sandbox, limits=options.limits, code=code,
                              secrets=[*course.secrets(), submission.path.parent], budget_seconds=options.submission_seconds,
                              zygote=zygote)
    try:
        try:
            backend.start()
        except StudentError as exc:
            return error_result(submission, assignment, f"{submission.path.name}: {exc}",
                                output="".join(backend.output), seconds=time.monotonic() - started)
        curves: list[dict] = []
        outcomes = run_hidden_tests(course, assignment, Student(backend), questions=options.questions,
                                    secret=options.secret, curves=curves, shrink=options.shrink,
                                    cases=casebook.loads(cases) if cases else None)
        outcomes += run_public_checks(course, assignment, backend, options.questions)
    finally:
        backend.close()
    warnings = list(code.problems)
    warnings += [f"cell {e['cell']} raised while loading:\n{e['error']}" for e in backend.load_errors]
    return summarize(submission, assignment, outcomes, warnings, "".join(backend.output)[-4000:],
                     time.monotonic() - started, curves)


# ---------------------------------------------------------------- a batch

def _grade_task(course_root: str, assignment: str, submission: SubmissionFile, options: GradeOptions,
                zygote=None, cases: str | None = None) -> dict:
    return asdict(grade_submission(Course(Path(course_root)), assignment, submission, options, zygote, cases))


def result_from_dict(data: dict) -> SubmissionResult:
    questions = {
        name: QuestionResult(q["name"], q["score"], q["max_score"], tuple(TestOutcome(**t) for t in q["tests"]))
        for name, q in data["questions"].items()
    }
    return SubmissionResult(**{**data, "questions": questions, "warnings": tuple(data["warnings"]),
                               "curves": tuple(data.get("curves", ()))})


GPU_TASK_CPU_SECONDS = 4 * 3600
GPU_TASK_SUBMISSION_SECONDS = 2 * 3600


def options_for(assignment: str, options: GradeOptions) -> GradeOptions:
    """A GPU-marked assignment (``lesson_XX_gpu``) trains models in the worker: it gets hours of CPU
    instead of two minutes, a submission budget to match, and the GPU where this machine has one."""
    if not assignment.endswith(GPU_SUFFIX):
        return options
    limits = replace(options.limits, cpu_seconds=max(options.limits.cpu_seconds, GPU_TASK_CPU_SECONDS),
                     gpu=cuda_available())
    return replace(options, limits=limits,
                   submission_seconds=max(options.submission_seconds, GPU_TASK_SUBMISSION_SECONDS))


def grade_batch(course: Course, assignment: str, submissions: list[SubmissionFile], *, options: GradeOptions,
                workers: int = 1, cluster: str | None = None) -> Iterator[SubmissionResult]:
    """Grade every submission, ``workers`` at a time, each in its own grader process; yields as they finish.

    Each slot has a warm worker factory (``ZygotePool``): a submission's worker forks from it
    instead of starting Python and torch in a new sandbox.
    """
    options = options_for(assignment, options)
    if options.sandbox and not sandbox_available():
        raise RuntimeError("bubblewrap is not available: install it (apt-get install bubblewrap) or pass --no-sandbox")
    deadline = options.submission_seconds + options.limits.startup_seconds + 60
    inventory = ("inventory", hidden_test_points, (course, assignment))

    def grading_tasks(cases: str | None) -> list:
        return [(s, _grade_task, (str(course.root), assignment, s, options, SLOT, cases)) for s in submissions]

    if cluster:  # the same tasks on a Dask cluster (its workers start their own grading processes)
        from rlgrade.cluster import run_assignment_tasks  # noqa: PLC0415 - dask is imported only for --cluster

        cases = record_for_batch(course, assignment, options, deadline, os.cpu_count() or 1)
        yield from results_of(run_assignment_tasks(course, assignment, [inventory, *grading_tasks(cases)],
                                                   address=cluster, deadline=deadline), assignment)
        return
    secrets = [*course.secrets(), *{s.path.parent for s in submissions}]
    # the inventory and the recorded cases come first, while the zygotes boot: then the slots the
    # submissions take are the first len(submissions) ones, and a small batch boots no zygote it does not use
    with ZygotePool(workers, limits=options.limits, sandbox=options.sandbox, secrets=secrets,
                    start=len(submissions)) as zygotes:
        points = list(run_tasks([inventory], workers=1, deadline=deadline))
        cases = record_for_batch(course, assignment, options, deadline, workers)
        grading = run_tasks(grading_tasks(cases), workers=workers, deadline=deadline, slot_resource=zygotes.control)
        yield from results_of(itertools.chain(points, grading), assignment)


def record_for_batch(course: Course, assignment: str, options: GradeOptions, deadline: float,
                     workers: int = 1) -> str | None:
    """The batch's recorded cases (:func:`record_in_pool`); None when recording fails: every submission
    then draws its own, with the same scores and messages, only slower. A batch of one records too,
    although that costs it time: a submission graded alone then meets its worker exactly as in a class
    batch (a failing test replays its cases before hypothesis runs it, and a student's printed output
    or a timeout count shows that)."""
    try:
        return record_in_pool(course, assignment, options, deadline=deadline, workers=workers)
    except RuntimeError:
        return None


def record_in_pool(course: Course, assignment: str, options: GradeOptions, *, deadline: float,
                   workers: int = 1) -> str | None:
    """The hidden tests' recorded cases, drawn in grading processes of this machine, ``workers`` at a
    time (each records some of the questions); None for a GPU-marked assignment, whose tests are
    training runs. RuntimeError when a recording process fails."""
    from rlgrade.release import assignment_questions  # noqa: PLC0415 - release imports this module's neighbours

    if assignment.endswith(GPU_SUFFIX):
        return None
    questions = list(options.questions or assignment_questions(course, assignment))
    parts = max(1, min(workers, len(questions)))
    tasks = [(part, recorded_cases, (course, assignment, replace(options, questions=tuple(questions[part::parts]))))
             for part in range(parts)]
    recorded = [outcome for _, outcome in run_tasks(tasks, workers=parts, deadline=deadline)]
    failed = [outcome for outcome in recorded if isinstance(outcome, TaskFailed)]
    if failed:
        raise RuntimeError(f"recording the hidden tests' cases failed: {failed[0].reason}")
    return casebook.merged(recorded)


def results_of(outcomes: Iterator[tuple[object, object]], assignment: str) -> Iterator[SubmissionResult]:
    """Task outcomes as result rows (a failed task is an error row with every question's max score)."""
    points: dict[str, float] = {}
    for key, outcome in outcomes:
        if key == "inventory":
            if isinstance(outcome, TaskFailed):
                raise RuntimeError(f"cannot collect the hidden tests of {assignment}: {outcome.reason}")
            points = outcome
            continue
        result = error_result(key, assignment, outcome.reason, seconds=outcome.seconds) \
            if isinstance(outcome, TaskFailed) else result_from_dict(outcome)
        if result.status == "error" and points:
            result = with_max_scores(result, points)
        yield result


def grading_key(course: Course, assignment: str, options: GradeOptions) -> str:
    """A hash of everything besides the submission that decides its grade: the hidden tests, the
    reference, the release notebook (its public checks), the questions asked for and which failures
    are shrunk (it changes the counterexamples a row holds)."""
    digest = hashlib.sha256(repr((sorted(options.questions or ()), options.secret, options.shrink)).encode())
    for path in [*course.hidden_test_files(assignment), course.solution_module(assignment), course.release_notebook(assignment)]:
        digest.update(str(path.relative_to(course.root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def already_graded(gradebook, assignment: str, submissions: list[SubmissionFile], key: str) -> set[str]:
    """Students whose current row graded this very file with these very tests (a rerun keeps them)."""
    recorded = gradebook.recorded(assignment)
    return {s.student for s in submissions
            if s.student in recorded and recorded[s.student] == (content_hash(s.path), key, "graded")}


def record_or_error(gradebook, result: SubmissionResult) -> SubmissionResult:
    """Store a result; one the database refuses becomes an error row, so the batch goes on."""
    try:
        gradebook.record(result)
        return result
    except Exception as exc:  # noqa: BLE001 - one student's row must not cost the others theirs
        failed = replace(result, status="error", error=f"the result could not be stored: {type(exc).__name__}: {exc}"[:2000],
                         score=0.0, questions={q: replace(r, score=0.0, tests=()) for q, r in result.questions.items()},
                         warnings=(), output="", curves=())
        gradebook.record(failed)
        return failed


def grade(course: Course, assignment: str, paths: list[Path], *, gradebook_url: str | None = None, workers: int = 1,
          json_path: Path | None = None, options: GradeOptions = GradeOptions(), regrade: bool = False,
          on_result: Callable[[SubmissionResult, int, int], None] | None = None,
          due: datetime | None = None, cluster: str | None = None) -> GradeReport:
    """Grade submissions into the gradebook (each result is stored as soon as it arrives).

    A rerun after a crash (or on a grown folder) resumes: a submission whose current row was
    graded from the same file by the same tests is kept, not regraded, unless ``regrade``.
    ``on_result(result, done, total)`` is called after each submission (progress bars).
    ``due``: submissions in nbgrader's layout submitted after it get a "late by" warning (scores unchanged).
    ``cluster``: a Dask scheduler's address (``tcp://HOST:PORT``): grade there instead of in a local pool.
    """
    from rlgrade.gradebook import DEFAULT_URL, Gradebook  # noqa: PLC0415 - the gradebook imports our records

    course.require(assignment)
    submissions = discover(paths, assignment=assignment, due=due)
    notes = {s.student: s.notes for s in submissions}
    gradebook = Gradebook(gradebook_url or DEFAULT_URL)
    key = grading_key(course, assignment, options)
    kept = set() if regrade else already_graded(gradebook, assignment, submissions, key)
    results = [r for r in gradebook.current_results(assignment) if r.student in kept]
    # a kept row must carry this run's lateness notes: another --due grades it again
    results = [r for r in results if discovery_notes(r.warnings) == notes[r.student]]
    kept = {r.student for r in results}
    for done, result in enumerate(results, start=1):
        if on_result is not None:
            on_result(result, done, len(submissions))
    todo = [s for s in submissions if s.student not in kept]
    for result in grade_batch(course, assignment, todo, options=options, workers=workers,
                              cluster=cluster) if todo else ():
        result = replace(result, grader_hash=key, warnings=(*notes[result.student], *result.warnings))
        result = record_or_error(gradebook, result)
        results.append(result)
        if on_result is not None:
            on_result(result, len(results), len(submissions))
    report = GradeReport(assignment, tuple(sorted(results, key=lambda r: r.student)), tuple(sorted(kept)))
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return report
