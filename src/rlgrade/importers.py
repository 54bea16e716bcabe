"""``rlgrade import otter``: an otter-grader master notebook → an rlgrade source notebook.

Otter's own parser does the reading (``otter.assign``, imported lazily: otter-grader is heavy and
only the ``dev`` extra installs it): its ``NotebookTransformer`` walks the ``# BEGIN QUESTION`` /
``# BEGIN SOLUTION`` / ``# BEGIN TESTS`` / ``# BEGIN PROMPT`` blocks (raw or fenced markdown
config cells, ``# IGNORE`` cells and lines), checks their nesting, parses each question's config
(``QuestionConfig``) and hands each test cell to its ``AssignmentTestsManager``, whose
``read_test`` decides hidden or public (``# HIDDEN``, ``hidden: true``) and turns the cell into a
doctest. This module only maps the result onto rlgrade's format:

* each question's one code solution cell, which must be a single function definition, becomes a
  solution cell whose ``grade_id`` is the function's name; otter's ``# BEGIN SOLUTION`` /
  ``# END SOLUTION`` become ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (the release replaces each
  region with a ``raise NotImplementedError()`` stub), a ``... # SOLUTION`` line becomes a region of
  its own, and ``# BEGIN PROMPT`` ... ``# END PROMPT`` lines (student-only scaffolding) are dropped;
* the question's public tests become one public check cell (``check_<function>``, 0 points),
  each otter doctest example an assertion against its recorded output;
* hidden tests do not go into the notebook: each question that has any gets a skeleton
  ``autograder/<assignment>/test_<function>.py`` (never overwritten) with otter's hidden tests
  and points as comments and a TODO: rlgrade's hidden tests are pytest/hypothesis tests against the
  reference, which an author writes (see ``src/rlgrade/testing``). The report lists them;
* markdown outside solutions is kept (locked), code outside questions becomes locked setup cells,
  prompt cells and otter's own generated cells (init, check, export) are dropped.
"""

from __future__ import annotations

import ast
import doctest
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from rlgrade.notebook import nbformat

from rlgrade.course import ASSIGNMENT_ID, Course

STAMP = "rlgrade_otter_cell"
"""Metadata key carrying a master cell's index through otter's transformer (removed again)."""


class OtterImportError(ValueError):
    """The master notebook cannot be imported; the message names the question and the cell."""


@dataclass
class OtterQuestion:
    name: str
    function: str
    points: object = None
    public: list = field(default_factory=list)  # otter TestCase objects
    hidden: list = field(default_factory=list)


@dataclass(frozen=True)
class OtterImportReport:
    assignment: str
    notebook: Path
    questions: tuple[OtterQuestion, ...]
    hidden_stubs: tuple[Path, ...]
    """test skeletons written for hidden tests."""
    kept_stubs: tuple[Path, ...]
    """skeletons not written because a test file was already there."""


def _otter():
    try:
        from otter.assign.assignment import Assignment  # noqa: PLC0415 - heavy, optional
        from otter.assign.blocks import (  # noqa: PLC0415
            BlockType,
            extract_all_fenced_otter_cells,
            get_cell_config,
            is_block_boundary_cell,
        )
        from otter.assign.notebook_transformer import NotebookTransformer  # noqa: PLC0415
        from otter.assign.solutions import ANSWER_CELL_TAG, SOLUTION_CELL_TAG  # noqa: PLC0415
        from otter.assign.tests_manager import AssignmentTestsManager  # noqa: PLC0415
        from otter.assign.utils import AssignNotebookFormatException  # noqa: PLC0415
    except ModuleNotFoundError as exc:
        raise OtterImportError("importing otter notebooks needs otter-grader: pip install 'rlgrade[dev]' "
                               f"(or pip install otter-grader) ({exc})") from None
    return {"Assignment": Assignment, "BlockType": BlockType,
            "extract_all_fenced_otter_cells": extract_all_fenced_otter_cells,
            "get_cell_config": get_cell_config, "is_block_boundary_cell": is_block_boundary_cell,
            "NotebookTransformer": NotebookTransformer, "ANSWER_CELL_TAG": ANSWER_CELL_TAG,
            "SOLUTION_CELL_TAG": SOLUTION_CELL_TAG, "AssignmentTestsManager": AssignmentTestsManager,
            "AssignNotebookFormatException": AssignNotebookFormatException}


def parse_master(nb, path: Path):
    """Run otter's transformer on the master notebook.

    Returns (cells, transformed, tests, otter): the master cells after fenced-config extraction, each
    stamped with its master cell number; the autograder-format notebook otter produced; otter's tests
    manager (per question name its config and test cases); and otter's names used here.
    """
    o = _otter()

    class RecordingTests(o["AssignmentTestsManager"]):
        """Otter's tests manager, remembering which master cell each test case came from."""

        def __init__(self, assignment):
            super().__init__(assignment)
            self.cells = {}

        def read_test(self, cell, question):
            super().read_test(cell, question)
            self.cells.setdefault(question.name, []).append(cell.metadata.get(STAMP))

    cells = []
    for index, master_cell in enumerate(nb.cells):  # one markdown cell may split into fenced config + prose
        for cell in o["extract_all_fenced_otter_cells"]([master_cell]):
            cell.setdefault("metadata", {})[STAMP] = index  # the master's cell number, for error messages
            cells.append(cell)
    nb = nbformat.from_dict({**nb, "cells": cells})
    assignment = o["Assignment"]({"init_cell": False, "check_all_cell": False, "export_cell": False})
    assignment.lang = "python"
    tests = RecordingTests(assignment)
    try:
        transformed = o["NotebookTransformer"](assignment, tests).transform_notebook(nb).transformed_nb
    except o["AssignNotebookFormatException"] as exc:
        raise OtterImportError(f"{path}: {exc}") from None
    except (ValueError, AssertionError, SyntaxError, TypeError) as exc:  # otter's config and test parsing
        raise OtterImportError(f"{path}: otter could not parse the notebook: {exc}") from None
    return cells, transformed, tests, o


def question_ranges(cells, o) -> dict[int, str]:
    """Master cell index → the otter question it lies in (otter's own block predicates)."""
    where, current = {}, None
    question = o["BlockType"].QUESTION
    for cell in cells:
        index = cell.metadata[STAMP]
        if o["is_block_boundary_cell"](cell, question):
            current = o["get_cell_config"](cell).get("name")
        elif o["is_block_boundary_cell"](cell, question, end=True):
            current = None
        elif current is not None:
            where[index] = current
    return where


def function_of(source: str, question: str, cell: int, path: Path) -> str:
    """The name of the one function the solution cell defines, or a clear error."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise OtterImportError(f"{path}: question {question!r}, cell {cell}: the solution cell is not valid Python "
                               f"({exc.msg}, line {exc.lineno})") from None
    body = tree.body
    if len(body) != 1 or not isinstance(body[0], ast.FunctionDef):
        what = ", ".join(type(node).__name__ for node in body) or "nothing"
        first = source.strip().split("\n")[0][:60]
        raise OtterImportError(f"{path}: question {question!r}, cell {cell} ({first!r}): the solution cell must hold "
                               f"exactly one function definition (rlgrade grades functions), but it holds: {what}")
    return body[0].name


SOLUTION_LINE = re.compile(r"^(\s*)(.*?)\s*# ?SOLUTION( NO PROMPT)?\s*$")
BEGIN_OTTER = re.compile(r"^(\s*)# BEGIN SOLUTION( NO PROMPT)?\s*$")


def convert_solution(source: str, question: str, cell: int, path: Path) -> str:
    """Otter's solution markers → nbgrader's (``### BEGIN SOLUTION`` regions)."""
    out, in_solution, in_prompt, regions = [], False, False, 0
    for line in source.split("\n"):
        stripped = line.rstrip()
        if stripped.endswith("# BEGIN PROMPT"):
            in_prompt = True
            continue
        if stripped.endswith("# END PROMPT"):
            in_prompt = False
            continue
        if in_prompt or stripped.endswith("# SEED"):
            continue
        begin = BEGIN_OTTER.match(stripped)
        if begin:
            out.append(f"{begin.group(1)}### BEGIN SOLUTION")
            in_solution, regions = True, regions + 1
        elif stripped.endswith("# END SOLUTION"):
            indent = re.match(r"\s*", line).group(0)
            out.append(f"{indent}### END SOLUTION")
            in_solution = False
        elif not in_solution and (one := SOLUTION_LINE.match(stripped)) and one.group(2):
            indent, code = one.group(1), one.group(2)
            out += [f"{indent}### BEGIN SOLUTION", f"{indent}{code}", f"{indent}### END SOLUTION"]
            regions += 1
        else:
            out.append(line)
    if not regions:
        raise OtterImportError(f"{path}: question {question!r}, cell {cell}: the solution cell has no "
                               "# BEGIN SOLUTION block or # SOLUTION line, so students would get the answer")
    return "\n".join(out).strip("\n")


def check_source(question: OtterQuestion) -> str:
    """Otter's public test cases (doctests) as one rlgrade check cell of assertions."""
    parts = []
    for number, case in enumerate(question.public, start=1):
        parts.append(f"# Example {number} — otter test {number} of {question.name}")
        examples = doctest.DocTestParser().get_examples(case.body)
        for example in examples:
            parts.append(example_check(example.source.rstrip("\n"), example.want.rstrip("\n")))
    parts.append(f'print("{question.function}: public examples passed")')
    return "\n".join(parts)


def example_check(source: str, want: str) -> str:
    """One doctest example as code that raises AssertionError when its output differs."""
    if not want:
        return source
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None and len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        expr = source.strip()
        if want == "True":
            return f"assert {expr}, {f'expected True: {expr}'!r}"
        shown = expr.replace("{", "{{").replace("}", "}}")
        return (f"_got = {expr}\n"
                f"assert repr(_got) == {want!r}, f\"expected {{{want!r}}}, got {{_got!r}}: {shown}\"")
    return ("import contextlib as _contextlib, io as _io\n"
            "with _contextlib.redirect_stdout(_io.StringIO()) as _out:\n"
            f"{textwrap.indent(source, '    ')}\n"
            f"assert _out.getvalue().rstrip() == {want!r}, "
            f"f\"expected {{{want!r}}}, got {{_out.getvalue().rstrip()!r}}\"")


def nbgrader(cell, grade_id: str, *, solution=False, grade=False, locked=True, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    cell.metadata = {"nbgrader": meta}
    return cell


def hidden_stub(question: OtterQuestion, assignment: str, master: Path) -> str:
    """A skeleton hidden-test module: otter's hidden tests as comments, for the author to port."""
    lines = [f'"""Hidden tests for {question.function} (otter question {question.name!r}, '
             f'imported from {master.name}).',
             "",
             "TODO: port otter's hidden tests below to rlgrade tests: compare `student` with `ref` on generated",
             "inputs (see src/rlgrade/testing and autograder/lesson_08 for examples), give them",
             "@pytest.mark.points(n), then run `rlgrade validate " + assignment + "`.",
             '"""',
             "",
             "import pytest",
             "",
             "from rlgrade.testing import assert_close, reference_for  # noqa: F401",
             "",
             "ref = reference_for(__file__)",
             f'pytestmark = pytest.mark.question("{question.function}")',
             "",
             f"# otter points for {question.name}: {question.points if question.points is not None else 'default (1)'}"]
    for number, case in enumerate(question.hidden, start=1):
        lines += ["", f"# otter hidden test {number}" + (f" ({case.points} points)" if case.points is not None else "")
                  + ":"]
        lines += [f"#     {line}".rstrip() for line in case.body.split("\n")]
    return "\n".join(lines) + "\n"


def import_otter(master: Path, course: Course, assignment: str, *, force: bool = False) -> OtterImportReport:
    """Write the assignment's source notebook (``source/lesson_XX/problem_set.ipynb``, or ``gpu_tasks.ipynb``
    for ``lesson_XX_gpu``) and hidden-test skeletons from an otter master."""
    master = Path(master)
    if not ASSIGNMENT_ID.match(assignment):
        raise OtterImportError(f"assignment {assignment!r} must look like lesson_XX or lesson_XX_gpu (two digits)")
    target = course.source_notebook(assignment)
    if target.exists() and not force:
        raise OtterImportError(f"{target} already exists (--force replaces it)")
    try:
        nb = nbformat.read(master, as_version=4)
    except (OSError, ValueError) as exc:
        raise OtterImportError(f"{master}: cannot be read as a notebook: {exc}") from None
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    if language != "python":
        raise OtterImportError(f"{master}: kernelspec language is {language!r}; rlgrade imports Python notebooks only")
    cells, transformed, tests, o = parse_master(nb, master)
    in_question = question_ranges(cells, o)

    questions: dict[str, OtterQuestion] = {}
    for name, cases in tests._tests_by_question.items():  # noqa: SLF001 - otter keeps them here
        config = tests._questions[name]  # noqa: SLF001
        if config.manual:
            raise OtterImportError(f"{master}: question {name!r} is manually graded; rlgrade grades functions only")
        questions[name] = OtterQuestion(name, "", config.points,
                                        [c for c in cases if not c.hidden], [c for c in cases if c.hidden])

    out, seen_solution = [], {}
    for cell in transformed.cells:
        index = cell.metadata.get(STAMP)
        if index is None:
            continue  # a cell otter generated (check cells and the like)
        tags = cell.metadata.get("tags", [])
        question = in_question.get(index)
        if o["ANSWER_CELL_TAG"] in tags:
            continue  # a prompt: the release makes the students' stub
        if o["SOLUTION_CELL_TAG"] in tags:
            if cell.cell_type != "code":
                raise OtterImportError(f"{master}: question {question!r}, cell {index}: a markdown solution "
                                       "(written answer); rlgrade grades functions only")
            if question in seen_solution:
                raise OtterImportError(f"{master}: question {question!r}, cell {index}: a second solution cell "
                                       f"(the first is cell {seen_solution[question]}); rlgrade needs one function "
                                       "per question")
            seen_solution[question] = index
            function = function_of(cell.source, question, index, master)
            q = questions[question]
            q.function = function
            out.append(nbgrader(nbformat.v4.new_code_cell(convert_solution(cell.source, question, index, master)),
                                function, solution=True, locked=False))
            if q.public:
                out.append(nbgrader(nbformat.v4.new_code_cell(check_source(q)), f"check_{function}",
                                    grade=True, points=0))
            continue
        if cell.cell_type == "markdown":
            out.append(nbgrader(nbformat.v4.new_markdown_cell(cell.source), f"md_{index}"))
        elif cell.cell_type == "code":
            if question is not None:
                raise OtterImportError(f"{master}: question {question!r}, cell {index}: a code cell outside the "
                                       "question's solution and tests blocks; rlgrade cannot grade it")
            if cell.source.strip():
                out.append(nbgrader(nbformat.v4.new_code_cell(cell.source), f"setup_{index}"))
        # other raw cells (not otter config) are dropped

    for name, q in questions.items():
        if not q.function:
            raise OtterImportError(f"{master}: question {name!r} has no solution cell (# BEGIN SOLUTION block "
                                   "with one function)")
    functions = [q.function for q in questions.values()]
    duplicate = next((f for f in functions if functions.count(f) > 1), None)
    if duplicate:
        raise OtterImportError(f"{master}: two questions define {duplicate!r}; each question needs its own function")

    source = nbformat.v4.new_notebook(cells=out, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    nbformat.validate(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(source, target)

    written, kept = [], []
    for q in questions.values():
        if not q.hidden:
            continue
        stub = course.tests_dir(assignment) / f"test_{q.function}.py"
        if stub.exists():
            kept.append(stub)
            continue
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(hidden_stub(q, assignment, master), encoding="utf-8")
        written.append(stub)
    return OtterImportReport(assignment, target, tuple(questions.values()), tuple(written), tuple(kept))
