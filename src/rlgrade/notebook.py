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
import sys
from dataclasses import dataclass
from pathlib import Path


def _import_nbformat():
    """Import nbformat without jsonschema's optional IRI checker.

    jsonschema imports ``rfc3987_syntax`` (if installed) only to check the "iri" format,
    which the notebook schema never uses; that import compiles a lark grammar, about
    1.5 s of CPU in every grading process. Blocking it just for this import leaves the
    package importable for anyone who needs it later.
    """
    blocked = "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # makes its import raise ImportError
    try:
        import nbformat  # noqa: PLC0415
    finally:
        if blocked:
            del sys.modules["rfc3987_syntax"]
    return nbformat


nbformat = _import_nbformat()
from nbformat.validator import get_validator  # noqa: E402

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
    except ValueError as exc:  # an integer literal longer than Python's 4300-digit limit
        raise NotebookError(path, f"is not valid JSON ({str(exc).split(':')[0]})") from None
    except RecursionError:
        raise NotebookError(path, f"is nested too deeply (more than {MAX_DEPTH} levels)") from None
    # Deep JSON parses, but then overflows the stack in nbformat, deepcopy or json.dumps.
    if too_deep(data):
        raise NotebookError(path, f"is nested too deeply (more than {MAX_DEPTH} levels)")
    # "\ud800" escapes parse to lone surrogates, which no later step can encode (compile, write).
    if SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise NotebookError(path, f"holds an unpaired surrogate escape {exc.object[exc.start]!r}, "
                                      "which is not a character") from None
    if not isinstance(data, dict):
        raise NotebookError(path, "is not a notebook (the JSON is not an object)")
    # `type(...) is int`: 4.0 == 4 and True is an int, and both crash nbformat's validator.
    if type(data.get("nbformat")) is not int or data["nbformat"] != 4:
        raise NotebookError(path, f"has nbformat version {data.get('nbformat')!r}; version 4 is required")
    minor = data.get("nbformat_minor")
    if type(minor) is not int or minor < 0:
        raise NotebookError(path, f"has nbformat_minor {minor!r}; a non-negative integer is required")
    # Check the plain schema first: nbformat.validate walks the cells before it checks them
    # (TypeError on "cells": 3), and relaxes the schema for minors newer than it knows
    # (cells without a source): check those against the newest schema we know. Cell ids
    # missing from a 4.5+ notebook are only a warning (nbformat adds them), so not here either;
    # `data` is only checked, the notebook returned is parsed again from the text.
    minor = min(minor, nbformat.v4.nbformat_minor)
    if minor >= 5 and isinstance(data.get("cells"), list):
        for i, cell in enumerate(data["cells"]):
            if isinstance(cell, dict):
                cell.setdefault("id", f"missing-id-{i}")
    validator = get_validator(version=4, version_minor=minor)
    error = next(iter(validator.iter_errors(data)), None) if validator is not None else None
    if validator is None or error is not None:
        why = error.message[:200] if error is not None else f"no schema for version 4.{minor}"
        raise NotebookError(path, f"does not follow the notebook schema: {why}")
    nb = nbformat.from_dict(data)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(path, f"does not follow the notebook schema: {exc.message[:200]}") from None
    return nbformat.reads(text, as_version=nbformat.NO_CONVERT)  # joins multi-line sources


MAX_DEPTH = 100
"""Deepest JSON nesting accepted; real notebooks (widget state, plotly outputs) stay far below."""
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def too_deep(data) -> bool:
    """Whether the parsed JSON nests more than MAX_DEPTH containers (iteratively: no recursion)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return False


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def check_nbgrader_meta(cell, index: int, path: Path) -> None:
    """The nbgrader metadata that nbgrader's release transforms read has the types they assume.

    nbgrader indexes it without checks: a list crashes ``.get``, a missing grade_id or points
    is a KeyError in ComputeChecksums, points "two" a ValueError, flags "false" count as true.
    """
    metadata = cell.get("metadata", {})
    if "nbgrader" not in metadata:
        return
    meta = metadata["nbgrader"]
    if not isinstance(meta, dict):
        raise NotebookError(path, f"nbgrader metadata must be an object, not {type(meta).__name__}", cell=index, line=1)
    for flag in ("solution", "grade", "locked"):
        if not isinstance(meta.get(flag, False), bool):
            raise NotebookError(path, f"nbgrader {flag!r} must be true or false, not {meta[flag]!r}", cell=index, line=1)
    kind = next((flag for flag in ("solution", "grade", "locked") if meta.get(flag)), None)
    if kind is None:
        return
    grade_id = meta.get("grade_id")
    if not grade_id:
        raise NotebookError(path, f"{kind} cell has no nbgrader grade_id", cell=index, line=1)
    if not isinstance(grade_id, str):
        raise NotebookError(path, f"nbgrader grade_id must be a string, not {grade_id!r}", cell=index, line=1)
    points = meta.get("points")
    if meta.get("grade") and (type(points) not in (int, float) or not 0 <= points < float("inf")):
        raise NotebookError(path, f"grade cell {grade_id!r} needs nbgrader points, a number >= 0 (not {points!r})",
                            cell=index, line=1)


def is_solution(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_check(cell) -> bool:
    """A public example-check cell (an nbgrader grade cell that is not a solution)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


SELF_CHECK = frozenset({"check"})
TRAINING = frozenset({"train_here", "plot_log"})
"""The functions of ``rlgrade`` a notebook calls that grading never runs: the self-check, and the
GPU-marked tasks' training in the notebook (``rlgrade.finetune.train_here``, ``plot_log``)."""


def is_self_check(cell) -> bool:
    """A code cell that only runs the student's self-check: imports from ``rlgrade`` and calls
    of ``check(...)`` (or ``rlgrade.check(...)``, or ``result = check(...)``), nothing else.
    (A function of the student's own named ``check`` is not told apart: a cell that only calls
    it is skipped too, which loses nothing a graded function needs.)

    The release appends one (``check()``, see ``rlgrade.release``) and students write their own
    (``check("gae")``). They contribute no code to grade, and ``rlgrade`` is not importable
    where a submission is graded, so grading and ``rlgrade check NOTEBOOK`` skip them.
    """
    return only_calls_rlgrade(cell, SELF_CHECK)


def is_training(cell) -> bool:
    """A code cell that only trains in the notebook: ``model, log = train_here("sft", globals())``
    after ``from rlgrade.finetune import train_here`` (or ``plot_log(log)``), nothing else.

    The GPU-marked tasks' notebooks have one per task (locked, from the source), and students
    write their own. Grading trains in its own way (the hidden tests), and a training run would
    take minutes, where ``rlgrade`` is not even importable: grading, ``rlgrade check NOTEBOOK``
    and the reference module skip these cells, as they skip self-checks.
    """
    return only_calls_rlgrade(cell, TRAINING)


def runs_only_in_notebook(cell) -> bool:
    """A cell that only self-checks or trains (any mix of them): never part of the graded code."""
    return only_calls_rlgrade(cell, SELF_CHECK | TRAINING)


def only_calls_rlgrade(cell, names: frozenset[str]) -> bool:
    """A code cell of imports from ``rlgrade`` and calls of its functions ``names`` (imported by
    name, maybe under another name, or in an earlier cell; or as ``rlgrade.name(...)``), each a
    statement of its own or assigned (``result = check()``, ``model, log = train_here(...)``)."""
    if cell.get("cell_type") != "code":
        return False
    try:
        tree = ast.parse(cell.get("source", ""))
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # NUL bytes, absurd nesting
        return False
    # The names of rlgrade and of the functions; the plain names also when an earlier cell imported them.
    modules, functions = set(), set(names)
    for node in tree.body:
        if isinstance(node, ast.Import) and all(a.name.split(".")[0] == "rlgrade" for a in node.names):
            modules |= {a.asname for a in node.names if a.asname and a.name == "rlgrade"}
            modules |= {"rlgrade" for a in node.names if not a.asname}
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "rlgrade":
            functions |= {a.asname or a.name for a in node.names if a.name in names}
        elif not (isinstance(node, (ast.Expr, ast.Assign)) and is_call_of(node.value, modules, functions, names)):
            return False
    return bool(tree.body)


def is_call_of(node, modules: set[str], functions: set[str], attributes: frozenset[str]) -> bool:
    """``f(...)`` with ``f`` in ``functions``, or ``rlgrade.f(...)`` with ``f`` in ``attributes``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in functions
    return isinstance(func, ast.Attribute) and func.attr in attributes and isinstance(func.value, ast.Name) \
        and func.value.id in modules


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
        check_nbgrader_meta(cell, index, path)
        check_markers(cell, index, path)
        if not is_solution(cell) or cell.cell_type != "code":
            continue
        grade_id = nbgrader_meta(cell)["grade_id"]
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
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, surrogates, absurd nesting
        raise NotebookError(path, f"cannot be parsed as Python: {type(exc).__name__}: {exc}", cell=index) from None
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
    """Locked, non-graded code cells (imports etc.): part of the reference module. Not the cells
    that only train or self-check (they would run a training when the module is imported)."""
    return [cell.source for cell in nb.cells if cell.cell_type == "code" and not is_solution(cell)
            and not is_check(cell) and not runs_only_in_notebook(cell)]
