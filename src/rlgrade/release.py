"""``rlgrade release``: source notebooks → student notebooks (``release/``) + reference modules (``solutions/``).

One source of truth: both outputs are generated from ``source/lesson_XX/problem_set.ipynb``.
The student view is the source minus secrets, made by an ordered list of small
notebook transforms — nbgrader's own preprocessors after our format check.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from pathlib import Path

from rlgrade.notebook import nbformat

from rlgrade.course import Course
from rlgrade.notebook import (
    NotebookError,
    graded_cells,
    is_check,
    is_solution,
    nbgrader_meta,
    read_notebook,
    setup_code,
)

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

CHECK_HOWTO_ID = "rlgrade_check_howto"
CHECK_ALL_ID = "rlgrade_check_all"
"""grade_ids of the two cells the release adds (source notebooks may not use them)."""
CHECK_ALL_SOURCE = "from rlgrade import check\ncheck()"
RAISES = "raises-exception"
"""The cell tag with which Jupyter goes on running the next cells after this one raised."""


@dataclass(frozen=True)
class ReleaseReport:
    """What a release wrote, or (with ``check=True``) what is stale."""

    assignments: tuple[str, ...]
    written: tuple[Path, ...] = ()
    stale: tuple[Path, ...] = ()
    questions: dict = field(default_factory=dict)
    """assignment → question names, in notebook order."""


def student_transforms() -> list:
    """The ordered transforms from source to student notebook (order is tested)."""
    from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums, LockCells  # noqa: PLC0415 - slow import

    return [
        ClearSolutions(code_stub={"python": CODE_STUB}, enforce_metadata=True),
        ClearOutput(),
        LockCells(),
        ComputeChecksums(),  # last: checksums cover the final, locked cells
    ]


def check_language(nb, path: Path) -> None:
    """ClearSolutions has a code stub for Python only (and raises ValueError/TypeError on other kernels)."""
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    if language != "python":
        raise NotebookError(path, f"kernelspec language is {language!r}; rlgrade releases Python notebooks only")


def check_setup_code(nb, path: Path) -> None:
    """Setup cells go verbatim into the reference module: one that is not Python would break
    that module's import at grading time, far from the cause (found by fuzzing)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_solution(cell) or is_check(cell):
            continue  # the cells of setup_code()
        try:
            ast.parse(cell.source)
        except SyntaxError as exc:
            raise NotebookError(path, f"setup cell is not valid Python ({exc.msg}); it goes into the reference module",
                                cell=index, line=exc.lineno) from None
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            raise NotebookError(path, f"setup cell cannot be parsed as Python: {type(exc).__name__}", cell=index) from None


def check_howto(questions: list[str]) -> str:
    """The markdown cell near the top that tells the student how to self-check."""
    example = f'check("{questions[0]}")' if questions else None
    width = max(len(example or ""), len("check()"))
    lines = ["**Check yourself** as you go: in any cell, run", "", "```python", "from rlgrade import check"]
    if example:
        lines.append(f"{example:<{width}}  # one question")
    lines += [f"{'check()':<{width}}  # every question (the last cell of this notebook does this)", "```", "",
              ("It runs this notebook's public examples on the functions defined in your kernel (run their cells "
               "first) and says per question: passed, failed (which example, expected vs. got), not implemented "
               "yet, or not defined. It changes none of your variables, and grading skips it. Your hidden tests "
               "are graded later, on many more inputs than these examples.")]
    return "\n".join(lines)


def check_cells_free(nb, path: Path) -> None:
    """The grade_ids and cell ids of the cells the release adds are not already taken."""
    reserved = {CHECK_HOWTO_ID, CHECK_ALL_ID, CHECK_HOWTO_ID.replace("_", "-"), CHECK_ALL_ID.replace("_", "-")}
    for index, cell in enumerate(nb.cells):
        for taken in (nbgrader_meta(cell).get("grade_id"), cell.get("id")):
            if not (isinstance(taken, str) and taken in reserved):  # (any JSON value until graded_cells checked it)
                continue
            raise NotebookError(path, f"{taken!r} is reserved for the check cells that `rlgrade release` adds",
                                cell=index, line=1)


def with_check_cells(nb, questions: list[str]) -> nbformat.NotebookNode:
    """``nb`` with the self-check cells added: the how-to after the title cell (at the top if the
    notebook does not open with markdown), ``check()`` at the end. Both are locked nbgrader cells,
    so they get checksums like the rest; grading skips the code cell (``is_self_check``).

    The public check cells are tagged ``raises-exception``: an unfinished question's examples
    raise NotImplementedError, and without the tag JupyterLab's "Run All" (and Jupyter's
    "Restart & Run All") stops there, so the final ``check()`` would run only once every
    question is done. With it the run goes on, the failing cells still show their error."""
    def locked(make, source: str, grade_id: str):
        cell = make(source, id=grade_id.replace("_", "-"))  # fixed ids: the release is deterministic
        if nb.get("nbformat_minor", 0) < 5:  # cell ids came with nbformat 4.5
            del cell["id"]
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3,
                                     "solution": False}
        return cell

    at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
    nb.cells.insert(at, locked(nbformat.v4.new_markdown_cell, check_howto(questions), CHECK_HOWTO_ID))
    nb.cells.append(locked(nbformat.v4.new_code_cell, CHECK_ALL_SOURCE, CHECK_ALL_ID))
    for cell in nb.cells:
        if cell.cell_type == "code" and is_check(cell):
            tags = cell.metadata.setdefault("tags", [])
            if RAISES not in tags:
                tags.append(RAISES)
    return nb


def student_notebook(nb, questions: list[str] | None = None) -> nbformat.NotebookNode:
    """The student's view of a (validated) source notebook; ``questions`` (default: read from
    ``nb``) name the first question in the check how-to."""
    nb = copy.deepcopy(nb)
    if questions is None:
        questions = [str(nbgrader_meta(c).get("grade_id")) for c in nb.cells if c.cell_type == "code" and is_solution(c)]
    nb = with_check_cells(nb, questions)
    resources: dict = {}
    for transform in student_transforms():
        nb, resources = transform.preprocess(nb, resources)
    nb.metadata.pop("celltoolbar", None)
    return nb


def reference_module(nb, source_path: Path, course: Course) -> str:
    """Python source of the reference solutions: setup cells then each solution, markers dropped."""
    relative = source_path.relative_to(course.root)
    header = (f'"""Reference solutions, generated by `rlgrade release` from {relative}.\n\n'
              'Do not edit: change the source notebook and run `rlgrade release`.\n"""\n')
    parts = [header, *setup_code(nb), *(cell.reference_code for cell in graded_cells(nb, source_path))]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def release(course: Course, *, only: list[str] | None = None, check: bool = False) -> ReleaseReport:
    """Generate (or, with ``check``, compare against) ``release/`` and ``solutions/``."""
    assignments = [course.require(a) for a in only] if only else course.assignments()
    written, stale, questions = [], [], {}
    for assignment in assignments:
        source_path = course.source_notebook(assignment)
        nb = read_notebook(source_path)
        check_language(nb, source_path)
        questions[assignment] = [cell.grade_id for cell in graded_cells(nb, source_path)]
        check_setup_code(nb, source_path)
        check_cells_free(nb, source_path)
        outputs = {
            course.release_notebook(assignment): nbformat.writes(student_notebook(nb, questions[assignment])) + "\n",
            course.solution_module(assignment): reference_module(nb, source_path, course),
        }
        for path, text in outputs.items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if check:
                stale.append(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                written.append(path)
    return ReleaseReport(tuple(assignments), tuple(written), tuple(stale), questions)


def assignment_questions(course: Course, assignment: str) -> list[str]:
    """Question names of an assignment, read from its source notebook."""
    path = course.source_notebook(course.require(assignment))
    return [cell.grade_id for cell in graded_cells(read_notebook(path), path)]
