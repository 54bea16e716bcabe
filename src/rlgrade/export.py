"""``rlgrade export``: the gradebook as files other tools read."""

from __future__ import annotations

import csv
import io

from rlgrade.gradebook import Gradebook


def export_csv(gradebook: Gradebook, assignment: str, questions: list[str]) -> str:
    """One row per student, one column per question (its score), then total, max and status."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *questions, "score", "max_score", "status"])
    for result in gradebook.current_results(assignment):
        per_question = [f"{result.questions[q].score:g}" if q in result.questions else "0" for q in questions]
        writer.writerow([result.student, *per_question, f"{result.score:g}", f"{result.max_score:g}", result.status])
    return out.getvalue()
