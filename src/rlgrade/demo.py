"""``rlgrade demo``: the main job on the embedded defaults, end to end.

release → validate lesson 8 → grade the bundled sample submissions
(``examples/lesson_08/submissions``: correct, buggy, crashing, hanging, malformed,
untouched and hostile) into a fresh SQLite gradebook → score table, JSON and CSV →
review (failure clusters with named misconceptions, terminal and HTML) → one
feedback page per student.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from rlgrade.course import Course

ASSIGNMENT = "lesson_08"
SAMPLES = Path("examples") / ASSIGNMENT / "submissions"


def run_demo(course: Course, out: Path, *, workers: int = 2, console: Console | None = None,
             run_validate: bool = True) -> bool:
    """Run the whole pipeline; returns False if validation fails."""
    from rlgrade.cli import score_table, validate_table  # noqa: PLC0415 - shared table layouts
    from rlgrade.export import export_csv  # noqa: PLC0415
    from rlgrade.feedback import feedback  # noqa: PLC0415
    from rlgrade.review import render_html, render_terminal, review  # noqa: PLC0415
    from rlgrade.grade import grade  # noqa: PLC0415
    from rlgrade.gradebook import Gradebook  # noqa: PLC0415
    from rlgrade.release import assignment_questions, release  # noqa: PLC0415
    from rlgrade.validate import validate  # noqa: PLC0415

    console = console or Console()
    console.rule("1. release")
    report = release(course)
    console.print(f"{len(report.assignments)} assignment(s); {len(report.written)} file(s) regenerated")

    ok = True
    if run_validate:
        console.rule(f"2. validate {ASSIGNMENT}")
        with console.status("running the reference, the stub, misconceptions and rewrites through the hidden tests..."):
            checked = validate(course, ASSIGNMENT, workers=workers)
        console.print(validate_table(checked))
        for q in checked.questions:
            for problem in q.problems:
                console.print(f"[red]{q.question}:[/red] {problem}")
        ok = checked.ok

    console.rule(f"3. grade the sample submissions in {SAMPLES}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    url = f"sqlite:///{out.resolve()}/gradebook.db"

    def progress(result, done, total):
        console.print(f"  [{done}/{total}] {result.student}: {result.score:g}/{result.max_score:g} ({result.status})")

    graded = grade(course, ASSIGNMENT, [course.root / SAMPLES], gradebook_url=url, workers=workers,
                   json_path=out / "results.json", on_result=progress)
    console.print(score_table(graded))
    for result in graded.results:
        if result.error:
            console.print(f"[yellow]{result.student}[/yellow]: {result.error}")
    csv_text = export_csv(Gradebook(url), ASSIGNMENT, assignment_questions(course, ASSIGNMENT))
    (out / "scores.csv").write_text(csv_text, encoding="utf-8")
    console.print(f"gradebook: {out / 'gradebook.db'}; results: {out / 'results.json'}; CSV: {out / 'scores.csv'}")

    console.rule("4. review: who fails how")
    reviewed = review(Gradebook(url), ASSIGNMENT)
    for renderable in render_terminal(reviewed):
        console.print(renderable)
    (out / "review.html").write_text(render_html(reviewed), encoding="utf-8")
    pages = feedback(Gradebook(url), ASSIGNMENT, out / "feedback")
    console.print(f"report: {out / 'review.html'}; {len(pages)} feedback pages in {out / 'feedback'}")
    return ok
