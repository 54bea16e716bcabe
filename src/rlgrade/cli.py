"""The ``rlgrade`` command: a thin layer over the library functions (one module per verb)."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rlgrade.course import Course
from rlgrade.notebook import NotebookError

EXIT_CODES = ("Exit codes: 0 done (grade: every submission got a row, low scores and error rows included); "
              "1 a check failed (validate, release --check, malformed source, a grading run that could not finish); "
              "2 usage error (bad arguments, unknown assignment or question, missing course, file or results). "
              "Colour only on a terminal; NO_COLOR turns it off.")


def examples(*lines: str) -> str:
    """An epilog of usage examples (blank lines between: Typer joins single line breaks)."""
    return "\n\n".join(("Examples:", *(f"$ {line}" for line in lines)))


app = typer.Typer(help="Autograded homework: release, validate, grade, export.", no_args_is_help=True,
                  pretty_exceptions_enable=False,
                  epilog=examples("rlgrade list --json", "rlgrade grade lesson_08 examples/lesson_08/submissions")
                  + "\n\n" + EXIT_CODES)
export_app = typer.Typer(help="Write the gradebook out for other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")
import_app = typer.Typer(help="Turn other autograders' notebooks into rlgrade source notebooks.", no_args_is_help=True)
app.add_typer(import_app, name="import")
console = Console()
err = Console(stderr=True)


class Shrink(str, Enum):
    """``rlgrade.testing.plugin.SHRINK_MODES``, not imported from there: the CLI starts without pytest."""

    first = "first"
    all = "all"
    none = "none"


CourseOption = typer.Option(None, "--course", help="course root (default: nearest directory with source/)")


def find_course(path: Optional[Path]) -> Course:
    if path and not (path / "source").is_dir():
        fail(f"{path} is not a course (a course has a source/ directory)", code=2)
    try:
        return Course(path.resolve()) if path else Course.find()
    except FileNotFoundError as exc:
        fail(str(exc), code=2)


def fail(message: str, code: int = 1) -> None:
    """Print ``message`` to stderr and exit with ``code`` (1: a check failed; 2: usage error)."""
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def usage(message: str) -> None:
    """Exit 2: bad arguments, unknown assignment or question, missing files or results."""
    fail(message, code=2)


def require(course: Course, *assignments: str) -> None:
    """Exit 2 unless every assignment is in the course."""
    for assignment in assignments:
        try:
            course.require(assignment)
        except ValueError as exc:
            usage(str(exc))


def print_json(data) -> None:
    """JSON on stdout, nothing else (no Rich markup or wrapping)."""
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


@app.command("release", epilog=examples("rlgrade release lesson_08", "rlgrade release --check"))
def release_cmd(assignments: list[str] = typer.Argument(None, help="assignments (default: all)"),
                check: bool = typer.Option(False, "--check", help="only check that release/ and solutions/ are current"),
                course: Optional[Path] = CourseOption) -> None:
    """Generate student notebooks (release/) and reference modules (solutions/) from source/."""
    from rlgrade.release import release  # noqa: PLC0415 - keep `rlgrade --help` fast

    c = find_course(course)
    require(c, *(assignments or ()))
    try:
        report = release(c, only=assignments or None, check=check)
    except (NotebookError, ValueError) as exc:
        fail(str(exc))
    if check:
        if report.stale:
            for path in report.stale:
                err.print(f"stale: {path.relative_to(c.root)}")
            fail("release/ or solutions/ is out of date with source/: run `rlgrade release`")
        console.print(f"release/ and solutions/ are current ({len(report.assignments)} assignments)")
        return
    for path in report.written:
        console.print(f"wrote {path.relative_to(c.root)}")
    console.print(f"{len(report.assignments)} assignments released, {len(report.written)} files changed")


@app.command("list", epilog=examples("rlgrade list", "rlgrade list --json"))
def list_cmd(as_json: bool = typer.Option(False, "--json", help="print JSON"), course: Optional[Path] = CourseOption) -> None:
    """List assignments with their release notebook and questions."""
    from rlgrade.release import assignment_questions  # noqa: PLC0415

    c = find_course(course)
    rows = [{"assignment": a, "notebook": str(c.release_notebook(a).relative_to(c.root)),
             "questions": assignment_questions(c, a)} for a in c.assignments()]
    if as_json:
        print_json(rows)
        return
    table = Table("assignment", "notebook", "questions")
    for row in rows:
        table.add_row(row["assignment"], row["notebook"], ", ".join(row["questions"]))
    console.print(table)


@app.command("validate", epilog=examples("rlgrade validate lesson_08", "rlgrade validate lesson_08 -q ppo_clip_loss --json"))
def validate_cmd(assignments: list[str] = typer.Argument(..., help="assignments to validate"),
                 question: list[str] = typer.Option(None, "--question", "-q", help="only these questions"),
                 as_json: bool = typer.Option(False, "--json", help="print the reports as JSON (exit code unchanged)"),
                 no_sandbox: bool = typer.Option(False, "--no-sandbox", help="run the stub without bubblewrap"),
                 workers: Optional[int] = typer.Option(None, "--workers", help="parallel runs (default: CPU count)"),
                 course: Optional[Path] = CourseOption) -> None:
    """Check the hidden tests: reference full marks, stub 0, misconceptions rejected, rewrites accepted."""
    from rlgrade.validate import validate  # noqa: PLC0415

    c = find_course(course)
    require(c, *assignments)
    reports = []
    for assignment in assignments:
        try:
            with err.status(f"validating {assignment}..."):
                report = validate(c, assignment, questions=question or None, sandbox=not no_sandbox, workers=workers)
        except (NotebookError, RuntimeError) as exc:  # malformed source, the stub could not run
            fail(str(exc))
        except (ValueError, FileNotFoundError) as exc:  # an unknown --question, no hidden tests
            usage(str(exc))
        reports.append(report)
        if not as_json:
            print_validate(report)
    if as_json:
        print_json([validate_json(r) for r in reports])
    if not all(r.ok for r in reports):
        fail("validation failed")
    if not as_json:
        console.print("[green]validation passed[/green]")


def print_validate(report) -> None:
    console.print(validate_table(report))
    for problem in report.problems:
        err.print(f"[red]problem:[/red] {problem}")
    for q in report.questions:
        for problem in q.problems:
            err.print(f"[red]{q.question}:[/red] {problem}")


def validate_json(report) -> dict:
    """One assignment's validation: per question the scores, each variant's verdict, ok and problems."""
    def variant(v) -> dict:
        return {"name": v.variant.name, "description": v.variant.description, "score": v.score,
                "max_score": v.max_score, "failed": list(v.failed), "ok": v.ok, "named": v.named}

    questions = [{"question": q.question, "reference": q.reference_score, "max_score": q.max_score, "stub": q.stub_score,
                  "misconceptions": [variant(v) for v in q.misconceptions], "rewrites": [variant(v) for v in q.rewrites],
                  "passed_by_zeros": list(q.passed_by_zeros), "ok": q.ok, "problems": q.problems}
                 for q in report.questions]
    return {"assignment": report.assignment, "ok": report.ok, "problems": list(report.problems), "questions": questions}


def validate_table(report) -> Table:
    table = Table("question", "reference", "stub", "misconceptions rejected", "rewrites accepted", "ok",
                  "named by review", title=f"validate {report.assignment}")
    for q in report.questions:
        rejected = sum(v.ok for v in q.misconceptions)
        accepted = sum(v.ok for v in q.rewrites)
        table.add_row(q.question, f"{q.reference_score:g}/{q.max_score:g}", f"{q.stub_score:g}",
                      f"{rejected}/{len(q.misconceptions)}", f"{accepted}/{len(q.rewrites)}",
                      "[green]yes[/green]" if q.ok else "[red]NO[/red]",
                      f"{sum(v.named for v in q.misconceptions)}/{len(q.misconceptions)}")
    return table


@app.command("check", epilog=examples("rlgrade check problem_set.ipynb", "rlgrade check problem_set.ipynb -q gae"))
def check_cmd(notebook: Path = typer.Argument(..., help="your notebook (.ipynb)"),
              question: list[str] = typer.Option(None, "--question", "-q", help="only these questions"),
              as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
              timeout: int = typer.Option(600, "--timeout", help="seconds one cell may run")) -> None:
    """Run a notebook's public examples on your functions, as check() does inside Jupyter.

    Runs the notebook's code cells and then its checks in a fresh Jupyter kernel of this
    Python (your own code on your own machine: no sandbox). Exit 0 if every question passes,
    1 if any fails or is not done yet.
    """
    from rlgrade.check import check_notebook  # noqa: PLC0415

    if not notebook.is_file():
        usage(f"{notebook} does not exist")
    try:
        with err.status(f"running {notebook.name} in a kernel..."):
            report, shown, errors = check_notebook(notebook, tuple(question or ()), timeout=timeout)
    except ValueError as exc:  # not a notebook (NotebookError), an unknown --question
        usage(str(exc))
    except RuntimeError as exc:  # the kernel died, a cell ran too long, rlgrade not importable there
        fail(str(exc))
    if as_json:
        print_json({**report.to_json(), "cell_errors": errors})
    else:
        print(shown, end="")
        for error in errors:
            err.print(f"note: {error}", markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command("grade", epilog=examples("rlgrade grade lesson_08 examples/lesson_08/submissions",
                                       "rlgrade grade lesson_08 examples/lesson_08/submissions --json -"))
def grade_cmd(assignment: str = typer.Argument(..., help="assignment id, e.g. lesson_08"),
              submissions: list[Path] = typer.Argument(..., help=".ipynb / .py files, or directories of them"),
              gradebook: Optional[str] = typer.Option(None, "--gradebook", help="SQLAlchemy URL (default sqlite:///gradebook.db)"),
              workers: int = typer.Option(1, "--workers", help="submissions graded in parallel"),
              cluster: Optional[str] = typer.Option(None, "--cluster", help="grade on a Dask cluster instead: its "
                                                    "scheduler address, e.g. tcp://10.0.0.5:8786"),
              json_path: Optional[Path] = typer.Option(None, "--json", help="write results as JSON to this file, "
                                                    "or to stdout with `--json -` (then only JSON there)"),
              question: list[str] = typer.Option(None, "--question", "-q", help="only these questions"),
              no_sandbox: bool = typer.Option(False, "--no-sandbox", help="run submissions WITHOUT isolation (trusted code only)"),
              regrade: bool = typer.Option(False, "--regrade", help="grade again submissions the gradebook already has "
                                           "for the same file and tests (by default a rerun resumes and keeps them)"),
              due: Optional[str] = typer.Option(None, "--due", help="due date (ISO 8601; UTC unless it has an offset): "
                                                "nbgrader submissions whose timestamp.txt is later get a 'late by' warning"),
              shrink: Shrink = typer.Option(Shrink.first, "--shrink",
                                         help="which failing property tests to shrink to their smallest input: the "
                                         "first of each question (default), all (slow: most of a wrong answer's "
                                         "grading time), none; scores are the same"),
              course: Optional[Path] = CourseOption) -> None:
    """Grade submissions into the gradebook and print a score table.

    A rerun of the same command (after a crash, or when more submissions arrive) resumes:
    unchanged submissions already graded by the same hidden tests keep their row.
    Given nbgrader's ``submitted/`` folder, grades ``submitted/<student>/<assignment>/``.
    """
    from rlgrade.grade import GradeOptions, parse_timestamp  # noqa: PLC0415

    c = find_course(course)
    require(c, assignment)
    try:
        due_at = parse_timestamp(due) if due else None
    except ValueError:
        usage(f"--due {due!r} is not a date and time (e.g. 2025-03-01T23:59+01:00)")
    to_stdout = str(json_path) == "-"
    options = GradeOptions(sandbox=not no_sandbox, questions=tuple(question) if question else None,
                           shrink=shrink.value)
    try:
        report = grade_with_progress(c, assignment, submissions, gradebook, workers, None if to_stdout else json_path,
                                     options, regrade, cluster=cluster, due=due_at)
    except (ValueError, FileNotFoundError) as exc:  # missing or duplicate submissions
        usage(str(exc))
    except RuntimeError as exc:
        fail(str(exc))
    if to_stdout:
        print_json(report.to_json())
    else:
        console.print(score_table(report))
    notes = err if to_stdout else console
    late = [f"{r.student} ({w.split(' (')[0]})" for r in report.results for w in r.warnings if w.startswith("late by ")]
    if late:
        notes.print(f"{len(late)} late submission(s): {', '.join(late)}")
    if report.kept:
        notes.print(f"{len(report.kept)} unchanged submission(s) kept from the gradebook (--regrade grades them again)")
    if json_path and not to_stdout:
        console.print(f"results written to {json_path}")


def grade_with_progress(course, assignment, submissions, gradebook, workers, json_path, options, regrade=False,
                        cluster=None, due=None):
    from rlgrade.grade import grade  # noqa: PLC0415

    columns = (TextColumn("grading {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(assignment, total=None)

        def advance(result, done, total):
            progress.update(task, completed=done, total=total)
            progress.console.print(f"  {result.student}: {result.score:g}/{result.max_score:g} ({result.status})")

        return grade(course, assignment, submissions, gradebook_url=gradebook, workers=workers, json_path=json_path,
                     options=options, regrade=regrade, on_result=advance, cluster=cluster, due=due)


def score_table(report) -> Table:
    """One row per student: total, status, and where points were lost (fits a terminal)."""
    table = Table("student", "score", "status", "points lost in", title=f"{report.assignment} scores")
    for r in report.results:
        lost = [f"{q.name} {q.score:g}/{q.max_score:g}" for q in sorted(r.questions.values(), key=lambda q: q.name)
                if q.score < q.max_score]
        status = "graded" if r.status == "graded" else f"[red]{r.status}[/red]"
        detail = (r.error or "").splitlines()[0][:80] if r.status != "graded" else ", ".join(lost) or "-"
        table.add_row(r.student, f"{r.score:g}/{r.max_score:g}", status, detail)
    return table


@app.command("review", epilog=examples("rlgrade review lesson_08", "rlgrade review lesson_08 --json"))
def review_cmd(assignment: str = typer.Argument(..., help="assignment id, e.g. lesson_08"),
               gradebook: Optional[str] = typer.Option(None, "--gradebook", help="SQLAlchemy URL (default sqlite:///gradebook.db)"),
               html: Optional[Path] = typer.Option(None, "--html", help="write the HTML report here instead of printing"),
               as_json: bool = typer.Option(False, "--json", help="print the review (questions, clusters, students) as JSON"),
               question: Optional[str] = typer.Option(None, "--question", "-q", help="only this question, with its counterexamples")) -> None:
    """Why students fail: per-question pass rates, failure clusters, named misconceptions."""
    from rlgrade.gradebook import DEFAULT_URL, Gradebook  # noqa: PLC0415
    from rlgrade.review import render_html, render_terminal, review  # noqa: PLC0415

    if html and as_json:
        usage("--html and --json are exclusive")
    try:
        report = review(Gradebook(gradebook or DEFAULT_URL), assignment, questions=[question] if question else None)
    except ValueError as exc:  # no results for the assignment, or an unknown question
        usage(str(exc))
    if as_json:
        print_json(review_json(report))
        return
    if html:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(report), encoding="utf-8")
        console.print(f"wrote {html}")
        return
    for renderable in render_terminal(report, question=question):
        console.print(renderable)


def review_json(report) -> dict:
    """The review's own records, with its summary properties (nothing recomputed here)."""
    data = asdict(report)
    data.update(failing=report.failing, explained=report.explained, explained_share=report.explained_share)
    for q, record in zip(report.questions, data["questions"]):
        record.update(pass_rate=q.pass_rate, mean=q.mean)
    return data


@app.command("feedback", epilog=examples("rlgrade feedback lesson_08 --out feedback"))
def feedback_cmd(assignment: str = typer.Argument(..., help="assignment id, e.g. lesson_08"),
                 out: Path = typer.Option(Path("feedback"), "--out", help="directory for <student>.html files"),
                 gradebook: Optional[str] = typer.Option(None, "--gradebook", help="SQLAlchemy URL (default sqlite:///gradebook.db)"),
                 reveal: bool = typer.Option(False, "--reveal", help="also show hidden tests' messages and inputs")) -> None:
    """One HTML feedback page per student (hidden tests: title and hint only, unless --reveal)."""
    from rlgrade.feedback import feedback  # noqa: PLC0415
    from rlgrade.gradebook import DEFAULT_URL, Gradebook  # noqa: PLC0415

    try:
        written = feedback(Gradebook(gradebook or DEFAULT_URL), assignment, out, reveal=reveal)
    except ValueError as exc:  # no results for the assignment
        usage(str(exc))
    console.print(f"wrote {len(written)} feedback pages to {out}")


@app.command("slides", epilog=examples("rlgrade slides lesson_05"))
def slides_cmd(lessons: list[str] = typer.Argument(None, help="lesson ids, e.g. lesson_05 (default: every lesson with slides)"),
               course: Optional[Path] = CourseOption) -> None:
    """Render lessons/<lesson>/slides/slides.md to a self-contained offline HTML deck beside it."""
    from rlgrade.slides import MathError, build_deck  # noqa: PLC0415

    root = find_course(course).root / "lessons"
    sources = [root / lesson / "slides" / "slides.md" for lesson in lessons] if lessons else \
        sorted(root.glob("lesson_*/slides/slides.md"))
    for source in sources:
        if not source.is_file():
            usage(f"{source} does not exist")
        try:
            count = build_deck(source, source.with_suffix(".html"))
        except MathError as exc:
            fail(f"{source}: {exc}")
        console.print(f"wrote {source.with_suffix('.html').relative_to(root.parent)} ({count} slides)")


@export_app.command("csv", epilog=examples("rlgrade export csv lesson_08 --out scores.csv"))
def export_csv_cmd(assignment: str = typer.Argument(...),
                   gradebook: Optional[str] = typer.Option(None, "--gradebook", help="SQLAlchemy URL"),
                   out: Optional[Path] = typer.Option(None, "--out", help="file to write (default: stdout)"),
                   course: Optional[Path] = CourseOption) -> None:
    """One row per student, one column per question."""
    from rlgrade.export import export_csv  # noqa: PLC0415
    from rlgrade.gradebook import DEFAULT_URL, Gradebook  # noqa: PLC0415
    from rlgrade.release import assignment_questions  # noqa: PLC0415

    c = find_course(course)
    require(c, assignment)
    try:
        text = export_csv(Gradebook(gradebook or DEFAULT_URL), assignment, assignment_questions(c, assignment))
    except ValueError as exc:  # no results for the assignment
        usage(str(exc))
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        print(text, end="")


@export_app.command("nbgrader", epilog=examples("rlgrade export nbgrader lesson_08 --db sqlite:///nbgrader.db"))
def export_nbgrader_cmd(assignment: str = typer.Argument(..., help="assignment id, e.g. lesson_08"),
                        db: str = typer.Option(..., "--db", help="the nbgrader gradebook's URL, e.g. sqlite:///nbgrader.db"),
                        gradebook: Optional[str] = typer.Option(None, "--gradebook", help="rlgrade's gradebook URL "
                                                                "(default sqlite:///gradebook.db)"),
                        notebook: Optional[str] = typer.Option(None, "--notebook", help="the notebook's name in nbgrader "
                                                                "(default: the release's, problem_set or gpu_tasks)"),
                        course_id: str = typer.Option("default_course", "--course-id", help="nbgrader's course id")) -> None:
    """Scores per question into an nbgrader gradebook (autoscores of grade cells), for formgrader's manual review."""
    from rlgrade.export import export_nbgrader  # noqa: PLC0415
    from rlgrade.gradebook import DEFAULT_URL, Gradebook  # noqa: PLC0415

    source = gradebook or DEFAULT_URL
    if db == source:
        usage("--db must be another database than rlgrade's own gradebook (nbgrader keeps its own schema)")
    try:
        students = export_nbgrader(Gradebook(source), assignment, db, notebook=notebook, course_id=course_id)
    except ValueError as exc:  # no results for the assignment
        usage(str(exc))
    console.print(f"wrote {len(students)} students' scores for {assignment} to {db}")


@export_app.command("gradescope", epilog=examples("rlgrade export gradescope lesson_08 --out autograder.zip"))
def export_gradescope_cmd(assignment: str = typer.Argument(..., help="assignment id, e.g. lesson_08"),
                          out: Path = typer.Option(Path("autograder.zip"), "--out", help="the zip to write"),
                          reveal: bool = typer.Option(False, "--reveal", help="once grades are published, also show "
                                                      "hidden tests' messages (inputs, expected values)"),
                          no_sandbox: bool = typer.Option(False, "--no-sandbox", help="grade uploads WITHOUT isolation "
                                                          "where bubblewrap cannot run (a submission could read the "
                                                          "hidden tests and write its own results)"),
                          course: Optional[Path] = CourseOption) -> None:
    """A Gradescope autograder zip: setup.sh, run_autograder, the assignment's hidden tests, rlgrade.

    Uses the course's RLGRADE_SECRET, if set, so that Gradescope draws the same hidden inputs.
    """
    import os  # noqa: PLC0415

    from rlgrade.gradescope import build_autograder  # noqa: PLC0415
    from rlgrade.testing.plugin import SECRET_ENV  # noqa: PLC0415

    c = find_course(course)
    require(c, assignment)
    secret = os.environ.get(SECRET_ENV)
    try:
        build_autograder(c, assignment, out, reveal=reveal, sandbox=not no_sandbox, secret=secret)
    except (ValueError, FileNotFoundError) as exc:  # not released, no hidden tests
        usage(str(exc))
    console.print(f"wrote {out}: upload it as the assignment's autograder on Gradescope")
    if secret:
        console.print(f"it holds the course's {SECRET_ENV} (as it holds the hidden tests): keep it private")


@import_app.command("otter", epilog=examples("rlgrade import otter master.ipynb --assignment lesson_13"))
def import_otter_cmd(master: Path = typer.Argument(..., help="an otter-grader master notebook (otter assign format)"),
                     assignment: Optional[str] = typer.Option(None, "--assignment", help="assignment id (default: "
                                                              "the master's file name if it is lesson_XX)"),
                     force: bool = typer.Option(False, "--force", help="replace an existing source notebook"),
                     course: Optional[Path] = CourseOption) -> None:
    """An otter master notebook -> source/<assignment>/problem_set.ipynb (questions as functions, public tests
    as checks). Hidden tests become skeletons autograder/<assignment>/test_<function>.py to port (TODO)."""
    from rlgrade.importers import OtterImportError, import_otter  # noqa: PLC0415 - otter is a heavy import

    if not master.is_file():
        usage(f"{master} does not exist")
    assignment = assignment or master.stem
    c = find_course(course)
    try:
        report = import_otter(master, c, assignment, force=force)
    except OtterImportError as exc:
        usage(str(exc))
    console.print(f"wrote {report.notebook.relative_to(c.root)}: "
                  + ", ".join(f"{q.name} -> {q.function} ({len(q.public)} public, {len(q.hidden)} hidden tests)"
                              for q in report.questions), markup=False, highlight=False)
    for stub in report.hidden_stubs:
        console.print(f"wrote {stub.relative_to(c.root)}: a skeleton holding otter's hidden tests as comments; "
                      "TODO: port them to rlgrade tests", markup=False, highlight=False)
    for stub in report.kept_stubs:
        console.print(f"kept {stub.relative_to(c.root)} (it exists): add otter's hidden tests to it by hand",
                      markup=False, highlight=False)
    console.print(f"next: rlgrade release {assignment}", markup=False, highlight=False)


@app.command("demo", epilog=examples("rlgrade demo --out rlgrade-demo"))
def demo_cmd(out: Path = typer.Option(Path("rlgrade-demo"), "--out", help="where the demo writes its gradebook and results"),
             workers: int = typer.Option(2, "--workers"),
             course: Optional[Path] = CourseOption) -> None:
    """The main job on embedded defaults: release, validate lesson 8, grade the bundled samples."""
    from rlgrade.demo import run_demo  # noqa: PLC0415

    ok = run_demo(find_course(course), out, workers=workers, console=console)
    if not ok:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
