"""``rlgrade feedback``: one HTML page per student, safe to hand out.

A student sees their score per question, the messages of the notebook's public
checks (their own examples), and for each hidden test only its title and, when
their failure matches a known misconception, that misconception as a hint. The
hidden tests' code, inputs, expected values and messages stay with the staff unless
the instructor passes ``reveal=True``.
"""

from __future__ import annotations

from pathlib import Path

from rlgrade.gradebook import Gradebook
from rlgrade.review import template


def feedback(gradebook: Gradebook, assignment: str, out: Path, *, reveal: bool = False) -> list[Path]:
    """Write ``out/<student>.html`` for every student with a current result; returns the paths."""
    results = gradebook.current_results(assignment)
    if not results:
        raise ValueError(f"the gradebook at {gradebook.url} has no results for {assignment}: run `rlgrade grade` first")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    page = template("feedback.html.j2")
    written = []
    for result in results:
        questions = sorted(result.questions.values(), key=lambda q: q.name)
        path = out / f"{safe_name(result.student)}.html"
        path.write_text(page.render(result=result, questions=questions, reveal=reveal), encoding="utf-8")
        written.append(path)
    return written


def safe_name(student: str) -> str:
    """A file name for a student id (ids come from file and folder names, but never trust them)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student).lstrip(".")
    return cleaned or "student"
