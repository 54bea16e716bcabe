"""Every shipped release notebook, run top to bottom in a real Jupyter kernel (nbclient), ends
with the check() cell that ``rlgrade release`` appends; what that cell prints is what a student
reads after "Run All".

Two students per lesson: one who has done nothing (every question is "not implemented yet")
and one who pasted the reference into every solution cell (every question passes). The
reference is the source notebook's solution cells with their markers dropped, i.e. exactly
what ``solutions/lesson_XX.py`` holds. The notebook is run from a copy in its own folder, as a
student's: check() finds it there (the only notebook with check cells in the kernel's folder).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from conftest import REPO

from rlgrade.check import (
    NO_EXAMPLES,
    NOT_IMPLEMENTED,
    PASSED,
    cell_errors,
    cell_text,
    checks_by_question,
    run_in_kernel,
    this_python_kernel,
)
from rlgrade.notebook import graded_cells, is_self_check, is_solution, nbgrader_meta, read_notebook
from rlgrade.release import CHECK_ALL_ID

ASSIGNMENTS = sorted(p.parent.name for p in (REPO / "release").glob("lesson_*/problem_set.ipynb"))
MARKS = {PASSED: "PASS", NOT_IMPLEMENTED: "TODO", NO_EXAMPLES: "----"}

pytestmark = pytest.mark.slow  # a kernel start and a torch import per run: ~5-10 s a lesson


def reference_answers(assignment: str) -> dict[str, str]:
    """question → the reference solution cell (markers dropped), as a student who pasted it in."""
    source = REPO / "source" / assignment / "problem_set.ipynb"
    return {cell.grade_id: cell.reference_code for cell in graded_cells(read_notebook(source), source)}


def run_as_student(assignment: str, folder: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The release notebook with ``answers`` pasted into its solution cells, executed top to bottom
    in a fresh kernel of this Python in ``folder`` (errors kept in the outputs, as in JupyterLab)."""
    nb = read_notebook(REPO / "release" / assignment / "problem_set.ipynb")
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            cell.source = answers.get(nbgrader_meta(cell)["grade_id"], cell.source)
    path = folder / "problem_set.ipynb"
    nbformat.write(nb, path)
    with tempfile.TemporaryDirectory(prefix="rlgrade-test-") as sockets:
        run_in_kernel(nb, this_python_kernel(Path(sockets)), folder, timeout=300)
    return nb


def check_output(nb: nbformat.NotebookNode) -> str:
    """What the notebook's last cell, the release's ``check()``, printed and displayed."""
    last = nb.cells[-1]
    assert nbgrader_meta(last).get("grade_id") == CHECK_ALL_ID and is_self_check(last)
    assert cell_errors(last) == [], cell_text(last)
    shown = [output.get("data", {}).get("text/plain", "") for output in last.outputs
             if output.get("output_type") == "execute_result"]
    return cell_text(last) + "".join(shown)


def statuses_shown(text: str, questions: list[str]) -> dict[str, str]:
    """question → the mark check() printed on its line (``PASS``, ``TODO``...)."""
    found = {}
    for question in questions:
        match = re.search(rf"^  (\S+)\s+{re.escape(question)}\s+(.+)$", text, flags=re.MULTILINE)
        assert match, f"no line for {question} in:\n{text}"
        found[question] = match.group(1)
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_check_cell_of_a_release_notebook(assignment, tmp_path):
    release_nb = read_notebook(REPO / "release" / assignment / "problem_set.ipynb")
    examples = checks_by_question(release_nb)
    questions = list(examples)
    assert questions == list(reference_answers(assignment))
    counted = [q for q in questions if examples[q]]  # questions without public examples are shown as "----"

    (tmp_path / "nothing").mkdir()
    text = check_output(run_as_student(assignment, tmp_path / "nothing", {}))
    assert statuses_shown(text, questions) == {q: MARKS[NOT_IMPLEMENTED if examples[q] else NO_EXAMPLES]
                                               for q in questions}, text
    assert all(re.search(rf"TODO\s+{q}\s+not implemented yet$", text, flags=re.MULTILINE) for q in counted), text
    assert f"0 of {len(counted)} question(s) pass their public examples." in text
    assert f"<rlgrade check: 0 of {len(questions)} questions pass their public examples>" in text
    assert "Traceback" not in text and "public examples passed" not in text

    (tmp_path / "reference").mkdir()
    text = check_output(run_as_student(assignment, tmp_path / "reference", reference_answers(assignment)))
    assert statuses_shown(text, questions) == {q: MARKS[PASSED if examples[q] else NO_EXAMPLES] for q in questions}, text
    assert f"All {len(counted)} question(s) pass their public examples." in text
    shutil.rmtree(tmp_path / "nothing")
