"""Reading notebooks: the source format's rules, and the code a submission contributes.

Source notebooks use nbgrader's metadata (schema v3). Each graded question is one
solution cell whose ``grade_id`` is the function's name, holding exactly one
top-level ``def`` with the reference body between ``### BEGIN SOLUTION`` and
``### END SOLUTION``. Public example checks are nbgrader "grade" cells (``grade:
true, solution: false``); they run in the student's kernel, never in grading.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
MARKER_WORDS = re.compile(r"(BEGIN|END)\s+SOLUTION")
MAGIC = re.compile(r"^\s*[%!]")


class NotebookError(ValueError):
    """A notebook breaks the format; the message names the file, the cell and the line."""

    def __init__(self, path: Path | str, message: str, *, cell: int | None = None, line: int | None = None):
        where = str(path)
        if cell is not None:
            where += f", cell {cell}"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")
        self.path, self.cell, self.line = str(path), cell, line


@dataclass(frozen=True)
class GradedCell:
    """A question's solution cell in a source notebook."""

    index: int
    grade_id: str
    source: str

    @property
    def reference_code(self) -> str:
        """The cell with the marker lines dropped: the reference implementation."""
        lines = self.source.split("\n")
        return "\n".join(line for line in lines if line.strip() not in (BEGIN, END))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and validate an nbformat-4 notebook, raising NotebookError on anything else."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotebookError(path, f"cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(path, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(path, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise NotebookError(path, "is not a notebook (the JSON is not an object)")
    if data.get("nbformat") != 4:
        raise NotebookError(path, f"has nbformat version {data.get('nbformat')!r}; version 4 is required")
    nb = nbformat.from_dict(data)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(path, f"does not follow the notebook schema: {exc.message[:200]}") from None
    return nbformat.reads(text, as_version=nbformat.NO_CONVERT)  # joins multi-line sources


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_solution(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_check(cell) -> bool:
    """A public example-check cell (an nbgrader grade cell that is not a solution)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def check_markers(cell, index: int, path: Path) -> None:
    """BEGIN/END markers must be well formed, paired, not nested, and only in solution cells."""
    open_line = None
    for lineno, line in enumerate(cell.source.split("\n"), start=1):
        if not MARKER_WORDS.search(line):
            continue
        stripped = line.strip()
        if stripped not in (BEGIN, END):
            raise NotebookError(path, f"malformed marker {stripped!r}; write exactly {BEGIN!r} or {END!r}",
                                cell=index, line=lineno)
        if not is_solution(cell):
            raise NotebookError(path, "solution marker in a cell not marked as a solution cell", cell=index, line=lineno)
        if stripped == BEGIN:
            if open_line is not None:
                raise NotebookError(path, f"nested {BEGIN!r} (the one on line {open_line} is still open)",
                                    cell=index, line=lineno)
            open_line = lineno
        else:
            if open_line is None:
                raise NotebookError(path, f"{END!r} without a {BEGIN!r} before it", cell=index, line=lineno)
            open_line = None
    if open_line is not None:
        raise NotebookError(path, f"{BEGIN!r} is never closed by {END!r}", cell=index, line=open_line)


def graded_cells(nb, path: Path) -> list[GradedCell]:
    """The source notebook's questions, checked against the authoring rules."""
    cells, seen = [], {}
    for index, cell in enumerate(nb.cells):
        check_markers(cell, index, path)
        if not is_solution(cell) or cell.cell_type != "code":
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        if not grade_id:
            raise NotebookError(path, "solution cell has no nbgrader grade_id", cell=index, line=1)
        if grade_id in seen:
            raise NotebookError(path, f"grade_id {grade_id!r} is already used by cell {seen[grade_id]}", cell=index, line=1)
        seen[grade_id] = index
        check_single_function(cell.source, grade_id, index, path)
        if BEGIN not in cell.source:
            raise NotebookError(path, f"solution cell {grade_id!r} has no {BEGIN!r} region", cell=index, line=1)
        cells.append(GradedCell(index, grade_id, cell.source))
    return cells


def check_single_function(source: str, grade_id: str, index: int, path: Path) -> None:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotebookError(path, f"syntax error: {exc.msg}", cell=index, line=exc.lineno) from None
    defs = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    others = [node for node in tree.body if not isinstance(node, ast.FunctionDef)]
    if len(defs) != 1 or others:
        line = (others[0].lineno if others else defs[1].lineno) if (others or len(defs) > 1) else 1
        raise NotebookError(path, f"solution cell {grade_id!r} must hold exactly one top-level function and nothing else",
                            cell=index, line=line)
    if defs[0].name != grade_id:
        raise NotebookError(path, f"the function is named {defs[0].name!r} but the cell's grade_id is {grade_id!r}",
                            cell=index, line=defs[0].lineno)


def public_checks(nb) -> list[tuple[str, str]]:
    """(grade_id, source) of the public check cells, in notebook order."""
    return [(nbgrader_meta(cell).get("grade_id", f"cell_{i}"), cell.source)
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and is_check(cell)]


def setup_code(nb) -> list[str]:
    """Locked, non-graded code cells (imports etc.): part of the reference module."""
    return [cell.source for cell in nb.cells
            if cell.cell_type == "code" and not is_solution(cell) and not is_check(cell)]


def submission_cells(path: Path) -> list[tuple[int, str]]:
    """The code a submission contributes, as (cell index, source) in order.

    A ``.py`` file is one cell. A notebook contributes every code cell except the
    public check cells; IPython magics and shell escapes are commented out.
    """
    path = Path(path)
    if path.suffix == ".py":
        try:
            return [(0, path.read_bytes().decode("utf-8"))]
        except UnicodeDecodeError as exc:
            raise NotebookError(path, f"is not UTF-8 text (byte {exc.start})") from None
    nb = read_notebook(path)
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_check(cell):
            continue
        lines = ["# " + line if MAGIC.match(line) else line for line in cell.source.split("\n")]
        cells.append((index, "\n".join(lines)))
    if not cells:
        raise NotebookError(path, "has no code cells")
    return cells
