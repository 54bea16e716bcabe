"""What a submission contributes to grading: its code, lined up against the release notebook.

Students edit notebooks in ways nobody planned: they delete cells, copy them, turn
a code cell into markdown, rename a function, change its signature, strip the
metadata, edit a locked cell. Two kinds of problem come out of reading one:

- **fatal** (:class:`~rlgrade.notebook.NotebookError`): nothing can be graded —
  not UTF-8, not JSON, not nbformat 4, too large, no code at all;
- **named problems** (``SubmissionCode.problems``): grading goes on, the problem
  is written into the result's warnings so the student and the TA read what
  happened, and the questions it touches lose their points through the hidden
  tests themselves (a missing function fails every test of its question).

Locked cells (the release's imports and helpers) are run as released, whatever
the student did to them, as nbgrader's autograder does: a student cannot change
the setup the tests assume, and cannot lose points for an accidental edit.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from rlgrade.notebook import (MAGIC, NotebookError, is_check, is_solution, nbgrader_meta, read_notebook,
                              runs_only_in_notebook)

MAX_BYTES = 32 * 1024**2
"""Larger notebooks are refused before parsing (outputs are what makes them big)."""


@dataclass(frozen=True)
class SubmissionCode:
    """The code cells to run, in order, as ``(cell index, source)``, and what was wrong."""

    cells: tuple[tuple[int, str], ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """A graded function as the release notebook states it."""

    name: str
    params: tuple[str, ...]
    signature: str


@dataclass(frozen=True)
class FunctionDef:
    """A top-level ``def`` found in the submission's code."""

    name: str
    cell: int
    line: int
    params: tuple[str, ...]
    signature: str


def read_submission(path: Path, release: Path | None = None, *, max_bytes: int = MAX_BYTES) -> SubmissionCode:
    """Read a ``.ipynb`` or ``.py`` submission; with the release notebook, check it against that."""
    path = Path(path)
    check_size(path, max_bytes)
    release_nb = read_notebook(release) if release is not None else None
    if path.suffix == ".py":
        cells, problems = [(0, read_text(path))], []
    else:
        nb = read_notebook(path)
        cells, problems = all_code_cells(nb), []
        if not cells:
            raise NotebookError(path, "has no code cells")
        if release_nb is not None:
            cells, problems = align_with_release(nb, release_nb)
    if release_nb is not None:
        problems += function_problems(cells, questions_of(release_nb))
    return SubmissionCode(tuple(cells), tuple(problems))


def check_size(path: Path, max_bytes: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotebookError(path, f"cannot be read: {exc.strerror}") from None
    if size == 0:
        raise NotebookError(path, "is empty (0 bytes)")
    if size > max_bytes:
        raise NotebookError(path, f"is {size / 1024**2:.1f} MB; submissions over {max_bytes / 1024**2:.0f} MB are not "
                                  "graded (clear the outputs: Kernel → Restart Kernel and Clear Outputs, save, resubmit)")


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(path, f"is not UTF-8 text (byte {exc.start})") from None


def runnable(source: str) -> str:
    """IPython magics and shell escapes are commented out: the worker runs plain Python."""
    return "\n".join("# " + line if MAGIC.match(line) else line for line in source.split("\n"))


def all_code_cells(nb) -> list[tuple[int, str]]:
    """Every code cell except the public checks (which grading runs from the release) and the
    self-check and training cells (``check()``, ``train_here(...)``: rlgrade is not importable
    where a submission runs)."""
    return [(i, runnable(cell.source)) for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and not is_check(cell) and not runs_only_in_notebook(cell)]


# ---------------------------------------------------------------- cells against the release

def grade_id(cell) -> str | None:
    value = nbgrader_meta(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def align_with_release(nb, release_nb) -> tuple[list[tuple[int, str]], list[str]]:
    """The submission's code cells with locked cells restored, and the problems found on the way."""
    released = {grade_id(c): c for c in release_nb.cells if grade_id(c)}
    by_id = {c.get("id"): c for c in release_nb.cells if c.get("id")}
    locked_code = [gid for gid, c in released.items()  # the release's check() and training cells are not restored
                   if c.cell_type == "code" and not is_solution(c) and not is_check(c) and not runs_only_in_notebook(c)]
    cells, problems, seen = [], [], {}
    if not any(grade_id(c) for c in nb.cells):
        problems.append("the notebook has no nbgrader metadata (was it copied into a new notebook?): "
                        "every code cell was run, top to bottom")
    for index, cell in enumerate(nb.cells):
        if runs_only_in_notebook(cell):  # check() or train_here(), the release's cell or the student's: nothing
            continue                     # to grade, and it would fail where the submission runs (no rlgrade there)
        gid = grade_id(cell) or stripped_metadata_id(cell, by_id, problems, index)
        original = released.get(gid) if gid else None
        if gid in seen and original is not None:
            problems.append(f"cell {index} repeats cell {seen[gid]} ({gid!r}); both ran, top to bottom, so the later one counts")
        if gid:
            seen.setdefault(gid, index)
        if original is not None and original.cell_type == "code" and cell.cell_type != "code":
            problems.append(f"cell {index} ({gid!r}) was changed from code to {cell.cell_type}, so its code did not run")
            continue
        if cell.cell_type != "code" or is_check(cell) or (original is not None and is_check(original)):
            continue
        if gid in locked_code:
            if cell.source.strip() != original.source.strip():
                problems.append(f"cell {index} ({gid!r}) is locked and was edited; the released version was run instead")
            cells.append((index, runnable(original.source)))
        else:
            cells.append((index, runnable(cell.source)))
    missing = [gid for gid in locked_code if gid not in seen]
    if missing and any(grade_id(c) for c in nb.cells):
        problems.append(f"locked cell(s) {', '.join(map(repr, missing))} were deleted; the released versions were run first")
        cells = [(-1, runnable(released[gid].source)) for gid in missing] + cells
    return cells, problems


def stripped_metadata_id(cell, by_id: dict, problems: list[str], index: int) -> str | None:
    """A cell whose nbgrader metadata was removed is recognised by its nbformat cell id."""
    original = by_id.get(cell.get("id"))
    gid = grade_id(original) if original is not None else None
    if gid:
        problems.append(f"cell {index} ({gid!r}) lost its nbgrader metadata; it was recognised by its cell id")
    return gid


# ---------------------------------------------------------------- functions against the release

def questions_of(release_nb) -> list[Question]:
    """The graded functions: one ``def`` per solution cell of the release notebook."""
    questions = []
    for cell in release_nb.cells:
        if cell.cell_type != "code" or not is_solution(cell):
            continue
        for fn in top_level_functions([(0, cell.source)]):
            if fn.name == grade_id(cell):
                questions.append(Question(fn.name, fn.params, fn.signature))
    return questions


def unparsable(cells: list[tuple[int, str]]) -> list[int]:
    """Cells with a syntax error (the error itself is reported when the worker runs them)."""
    bad = []
    for index, source in cells:
        try:
            ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):  # NUL bytes, absurd nesting
            bad.append(index)
    return bad


def top_level_functions(cells: list[tuple[int, str]]) -> list[FunctionDef]:
    """Every top-level ``def`` in the cells that parse."""
    found = []
    for index, source in cells:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):  # NUL bytes, absurd nesting
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append(FunctionDef(node.name, index, node.lineno, parameters(node.args),
                                         f"{node.name}({ast.unparse(node.args)})"))
    return found


def parameters(args: ast.arguments) -> tuple[str, ...]:
    """Parameter names in calling order, ``*args``/``**kwargs`` written with their stars."""
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return tuple(names)


def function_problems(cells: list[tuple[int, str]], questions: list[Question]) -> list[str]:
    """Graded functions that are missing, defined more than once, or whose parameters changed."""
    defs: dict[str, list[FunctionDef]] = {}
    for fn in top_level_functions(cells):
        defs.setdefault(fn.name, []).append(fn)
    problems, broken = [], unparsable(cells)
    for question in questions:
        found = defs.get(question.name, [])
        if not found and broken:
            cells_ = ", ".join(map(str, broken))
            problems.append(f"no function named {question.name!r} was found outside cell(s) {cells_}, which do not "
                            "parse (see the SyntaxError): its tests score 0")
            continue
        if not found:
            problems.append(f"no function named {question.name!r} is defined (renamed or deleted?): "
                            f"its tests score 0; the notebook asks for {question.signature}")
            continue
        if len(found) > 1:
            where = ", ".join(f"cell {f.cell} line {f.line}" for f in found)
            problems.append(f"{question.name!r} is defined {len(found)} times ({where}); the last definition is graded")
        last = found[-1]
        if last.params != question.params:
            problems.append(f"{question.name!r} has the signature {last.signature}, but the notebook asks for "
                            f"{question.signature}: the tests call it with the notebook's parameters")
    return problems
