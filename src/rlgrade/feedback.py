"""``rlgrade feedback``: one HTML page per student, safe to hand out.

A student sees their score per question, the messages of the notebook's public
checks (their own examples), and for each hidden test only its title and, when
their failure matches a known misconception, that misconception as a hint. The
hidden tests' code, inputs, expected values and messages stay with the staff unless
the instructor passes ``reveal=True``. A submission of a GPU-marked task also gets its
training runs' learning curves (loss, reward, KL, accuracy ... per step, as the run in its
own sandbox logged them on the training data), drawn inline as SVG: the page needs no other file.
"""

from __future__ import annotations

from pathlib import Path

from rlgrade.grade import SubmissionResult
from rlgrade.gradebook import Gradebook
from rlgrade.review import template
from rlgrade.testing.training import stored_curves

MODEL_NAMES = {"tiny": "tiny twin", "smollm2": "SmolLM2"}
NO_MATPLOTLIB = "The training curves are not drawn here: matplotlib is not installed (pip install 'rlgrade[lm]')."


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
        path.write_text(page.render(result=result, questions=questions, reveal=reveal,
                                    figures=training_figures(result), no_matplotlib=NO_MATPLOTLIB), encoding="utf-8")
        written.append(path)
    return written


def training_figures(result: SubmissionResult) -> list[dict]:
    """``{"title", "svg"}`` for each training run of the result ("dpo (tiny twin)"); ``svg`` is None
    where matplotlib is not installed. The stored curves are checked again before they are drawn:
    whatever a gradebook holds, a page is written."""
    runs = stored_curves(list(result.curves))
    draw = svg_drawer() if runs else None
    figures = []
    for run in runs:
        title = f"{run['task']} ({MODEL_NAMES.get(run['model'], run['model'])})"
        figures.append({"title": title, "svg": draw(plottable(run["log"])) if draw else None})  # the page titles it
    return figures


def svg_drawer():
    """:func:`rlgrade.finetune.log_svg`, or None without matplotlib (it comes with the ``lm`` extra)."""
    try:
        import matplotlib.pyplot  # noqa: F401, PLC0415
    except ImportError:
        return None
    from rlgrade.finetune import log_svg  # noqa: PLC0415

    return log_svg


def plottable(log: list[dict]) -> list[dict]:
    """A stored curve with its gaps (None: the value was missing or not finite) as NaN, which a plot leaves out."""
    return [{key: float("nan") if value is None else value for key, value in point.items()} for point in log]


def safe_name(student: str) -> str:
    """A file name for a student id (ids come from file and folder names, but never trust them)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student).lstrip(".")
    return cleaned or "student"
