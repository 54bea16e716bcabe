"""``check()``: a student runs the notebook's public examples on their own functions.

Inside the notebook, ``from rlgrade import check; check("gae")`` (or ``check()`` for every
question) runs that question's public check cells in the student's own kernel and prints
per question "passed", the example that failed with its expected-vs-got message, "not
implemented yet" (the stub still raises NotImplementedError) or "not defined".

The checks are the notebook's own check cells (nbgrader grade cells with ``points: 0``),
read from the ``.ipynb`` file: they hold no reference implementation and no hidden inputs.
Each runs with ``exec`` in a *copy* of the student's globals, so the variables a check sets
(``rewards``, ``got``...) never replace the student's own.

``rlgrade check NOTEBOOK`` does the same outside Jupyter: it runs the notebook's code cells
and then ``check()`` in a fresh Jupyter kernel (nbclient). That is the student's own code on
the student's own machine, as "Restart & Run All" would run it, so it needs no sandbox, and
it never runs in the CLI's own process.

``rlgrade/__init__.py`` imports ``check`` from here, so this module imports only the standard
library at the top: every ``import rlgrade`` (the grading workers' too) pays for it, and
nbformat alone takes seconds. (``rlgrade.check`` is the function; import this module's other
names with ``from rlgrade.check import ...``.)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
NOT_IMPLEMENTED = "not implemented yet"
NOT_DEFINED = "not defined"
NO_EXAMPLES = "no public examples"

MARKS = {PASSED: "PASS", FAILED: "FAIL", ERROR: "FAIL", NOT_IMPLEMENTED: "TODO", NOT_DEFINED: "MISSING",
         NO_EXAMPLES: "----"}
COLOURS = {PASSED: "32", FAILED: "31", ERROR: "31", NOT_IMPLEMENTED: "33", NOT_DEFINED: "33", NO_EXAMPLES: "2"}
RESULT_MARKER = "RLGRADE_CHECK_RESULT "
"""Prefix of the JSON line the CLI's kernel prints, so the CLI can find it among other output."""


@dataclass(frozen=True)
class QuestionCheck:
    """One question's public examples: its status and, unless it passed, what to tell the student."""

    question: str
    status: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@dataclass(frozen=True)
class CheckReport:
    """What ``check()`` found, in notebook order."""

    notebook: str
    questions: tuple[QuestionCheck, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """No question failed, crashed, is missing or still a stub (questions without examples don't count)."""
        return all(q.status in (PASSED, NO_EXAMPLES) for q in self.questions)

    def statuses(self) -> dict[str, str]:
        """question → status, e.g. ``{"gae": "passed", "gae_token_level": "not implemented yet"}``."""
        return {q.question: q.status for q in self.questions}

    def to_json(self) -> dict:
        return {"notebook": self.notebook, "ok": self.ok,
                "questions": [{"question": q.question, "status": q.status, "message": q.message}
                              for q in self.questions]}

    def __repr__(self) -> str:
        # Short: check() has already printed the full summary, and Jupyter shows this after it.
        passed = sum(q.passed for q in self.questions)
        return f"<rlgrade check: {passed} of {len(self.questions)} questions pass their public examples>"


# ---------------------------------------------------------------- inside the student's kernel

def check(*questions: str, notebook: str | os.PathLike | None = None, namespace: dict | None = None,
          quiet: bool = False) -> CheckReport:
    """Run the public examples of ``questions`` (default: all) on the functions in ``namespace``.

    ``notebook`` is the ``.ipynb`` holding the check cells (default: the notebook this kernel
    belongs to, see ``find_notebook``); ``namespace`` the student's globals (default: the
    ``__main__`` module's, which is the notebook's in a Jupyter kernel). Prints a summary
    unless ``quiet``; raises ValueError for a question the notebook does not have.
    """
    from rlgrade.notebook import read_notebook  # noqa: PLC0415 - see the module docstring

    path = find_notebook(notebook)
    nb = read_notebook(path)
    checks = checks_by_question(nb)
    selected = select_questions(list(checks), questions, path)
    scope = namespace if namespace is not None else vars(sys.modules["__main__"])
    report = CheckReport(str(path), tuple(check_question(q, checks[q], scope) for q in selected))
    if not quiet:
        print(render(report, colour=use_colour()))
    return report


def find_notebook(notebook: str | os.PathLike | None = None) -> Path:
    """The notebook to read the checks from: ``notebook`` if given, else the one this kernel runs
    (jupyter_server puts its path, relative to the server's root, in ``JPY_SESSION_NAME``; the
    kernel runs in the notebook's folder), else the single notebook with check cells in the
    current folder."""
    if notebook is not None:
        path = Path(notebook)
        if not path.is_file():
            raise FileNotFoundError(f"check(): no notebook at {path}")
        return path
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        for candidate in (Path(session), Path(session).expanduser(), Path(Path(session).name)):
            if candidate.suffix == ".ipynb" and candidate.is_file():
                return candidate
    candidates = [p for p in sorted(Path.cwd().glob("*.ipynb")) if has_checks(p)]
    if len(candidates) == 1:
        return candidates[0]
    found = f"{len(candidates)} notebooks with check cells here" if candidates else "no notebook with check cells here"
    raise FileNotFoundError(f"check(): cannot tell which notebook this is ({found}); "
                            "pass it: check(notebook='problem_set.ipynb')")


def has_checks(path: Path) -> bool:
    """Whether ``path`` is a readable notebook with at least one public check cell."""
    from rlgrade.notebook import public_checks, read_notebook  # noqa: PLC0415

    try:
        return bool(public_checks(read_notebook(path)))
    except ValueError:  # NotebookError: not a notebook we can read; not a candidate either
        return False


def checks_by_question(nb) -> dict[str, list[str]]:
    """question → its check cells' sources, in notebook order; questions without checks map to []."""
    from rlgrade.notebook import is_solution, nbgrader_meta, public_checks  # noqa: PLC0415

    checks: dict[str, list[str]] = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and is_solution(cell):
            checks.setdefault(str(nbgrader_meta(cell).get("grade_id")), [])
    for grade_id, source in public_checks(nb):
        checks.setdefault(grade_id.removeprefix("check_"), []).append(source)
    return checks


def select_questions(known: list[str], asked: tuple[str, ...], path: Path) -> list[str]:
    """The asked questions (``check_gae`` is taken as ``gae``), or all; unknown names are an error."""
    if not asked:
        return known
    wanted = [q.removeprefix("check_") for q in asked]
    unknown = [q for q in wanted if q not in known]
    if unknown:
        raise ValueError(f"check(): {path.name} has no question {', '.join(map(repr, unknown))}; "
                         f"its questions are: {', '.join(known)}")
    return wanted


def check_question(question: str, sources: list[str], namespace: dict) -> QuestionCheck:
    """Run one question's check cells; the first one that raises decides the status."""
    if not sources:
        return QuestionCheck(question, NO_EXAMPLES, "this question is graded by the hidden tests only")
    if question not in namespace:
        return QuestionCheck(question, NOT_DEFINED, f"{question} is not defined: run the cell that defines it first")
    for index, source in enumerate(sources):
        outcome = run_check_cell(question, source, index, namespace)
        if not outcome.passed:
            return outcome
    return QuestionCheck(question, PASSED)


def run_check_cell(question: str, source: str, index: int, namespace: dict) -> QuestionCheck:
    """``exec`` one check cell in a copy of ``namespace`` (the student's variables stay as they were)."""
    filename = f"<check_{question}{'' if index == 0 else f'_{index}'}>"
    scope = dict(namespace)
    printed = io.StringIO()
    with echo_student_prints(printed), contextlib.redirect_stdout(printed):
        try:
            exec(compile(source, filename, "exec"), scope)  # noqa: S102 - the notebook's own check cell
        except NotImplementedError as exc:
            return QuestionCheck(question, NOT_IMPLEMENTED, not_implemented_message(question, exc))
        except AssertionError as exc:
            return QuestionCheck(question, FAILED, failure_message(source, filename, exc))
        except NameError as exc:
            if getattr(exc, "name", None) == question:  # deleted from the namespace after we looked
                return QuestionCheck(question, NOT_DEFINED, f"{question} is not defined: run the cell that defines it first")
            return QuestionCheck(question, ERROR, failure_message(source, filename, exc))
        except Exception as exc:  # noqa: BLE001 - the student's function crashed: report it, don't raise
            return QuestionCheck(question, ERROR, failure_message(source, filename, exc))
    return QuestionCheck(question, PASSED)


@contextlib.contextmanager
def echo_student_prints(printed: io.StringIO):
    """After a check cell, print what it printed except its "...: public examples passed" line (the
    summary says that once for all); what remains is the student's own debugging prints."""
    try:
        yield
    finally:
        kept = [line for line in printed.getvalue().splitlines(keepends=True)
                if not line.rstrip().endswith("public examples passed")]
        print("".join(kept), end="")


def not_implemented_message(question: str, exc: NotImplementedError) -> str:
    """Name the stub that raised when it is another function the question calls."""
    raiser = raised_in(exc)
    if raiser not in (question, "<module>"):
        return f"{question} calls {raiser}, which still raises NotImplementedError"
    return "the function still raises NotImplementedError: replace it with your code"


def failure_message(source: str, filename: str, exc: BaseException) -> str:
    """Which example failed (its ``# Example`` comment) and the check's own message, or the
    failing line when the assertion has none; another exception with its type and where it was raised."""
    lines = source.split("\n")
    line = failing_line(filename, exc)
    example = example_title(lines, line) if line else None
    detail = str(exc).strip()
    if isinstance(exc, AssertionError):
        what = detail or (f"this check failed: {lines[line - 1].strip()}" if line else "a check failed")
    else:
        where = raised_in(exc)
        what = f"{type(exc).__name__}: {detail}" + (f" (raised in {where})" if where != "<module>" else "")
    return "\n".join(part for part in (example, what) if part)


def raised_in(exc: BaseException) -> str:
    """The name of the function the exception came from (``<module>``: the check cell itself)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].name if frames else "<module>"


def failing_line(filename: str, exc: BaseException) -> int | None:
    """The line of the check cell that raised (the last frame in the cell, not in the student's code)."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == filename]
    return lines[-1] if lines else None


def example_title(lines: list[str], line: int) -> str | None:
    """The ``# Example N — ...`` comment nearest above ``line`` (1-based), if the cell has one."""
    for text in reversed(lines[:line]):
        stripped = text.strip()
        if stripped.startswith("# Example"):
            return stripped.lstrip("# ").strip()
    return None


def use_colour() -> bool:
    """Colour only on a terminal, and never with NO_COLOR (Jupyter's output is not a terminal)."""
    stream = sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def render(report: CheckReport, *, colour: bool = False) -> str:
    """The plain-text summary a student reads: one line per question, the message indented below."""
    width = max((len(q.question) for q in report.questions), default=0)
    lines = [f"Public examples of {Path(report.notebook).name}:"]
    for q in report.questions:
        mark = f"{MARKS[q.status]:<7}"
        if colour:
            mark = f"\033[{COLOURS[q.status]}m{mark}\033[0m"
        lines.append(f"  {mark} {q.question:<{width}}  {q.status}")
        if q.status in (FAILED, ERROR, NOT_DEFINED) or (q.status == NOT_IMPLEMENTED and "calls" in q.message):
            lines.extend(f"          {text}" for text in q.message.split("\n"))
    lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report: CheckReport) -> str:
    counted = [q for q in report.questions if q.status != NO_EXAMPLES]
    passed = sum(q.passed for q in counted)
    if counted and passed == len(counted):
        return f"All {passed} question(s) pass their public examples. The hidden tests check much more: " \
               "try edge cases yourself too."
    return f"{passed} of {len(counted)} question(s) pass their public examples."


# ---------------------------------------------------------------- rlgrade check NOTEBOOK

def check_notebook(path: Path, questions: tuple[str, ...] = (), *,
                   timeout: int = 600) -> tuple[CheckReport, str, list[str]]:
    """Run the notebook's code cells, then ``check()``, in a fresh kernel.

    Returns the report, what ``check()`` printed there, and one line per code cell that raised
    (a syntax error in a function's cell is why it is "not defined"). The check cells themselves
    are left out of the run (``check()`` runs them), so are the notebook's own ``check()`` cells
    (``is_self_check``: we call it once, below) and its training cells (``is_training``: minutes
    of training that check() does not need), and a cell that raises does not stop the
    run, so one broken question does not hide the others' results. Raises RuntimeError if
    ``check()`` could not run in the kernel, ValueError for an unknown question.
    """
    from rlgrade.notebook import is_check, nbformat, read_notebook, runs_only_in_notebook  # noqa: PLC0415 - slow import, only for this verb

    path = Path(path).resolve()
    nb = read_notebook(path)
    select_questions(list(checks_by_question(nb)), questions, path)  # unknown names fail before a kernel starts
    student = [(index, c) for index, c in enumerate(nb.cells)  # check() cells too: we call check() below
               if c.cell_type == "code" and not is_check(c) and not runs_only_in_notebook(c)]
    run = nbformat.v4.new_notebook(metadata=nb.metadata)
    run.cells = [nbformat.v4.new_code_cell(c.source) for _, c in student]
    args = ", ".join([*map(repr, questions), f"notebook={str(path)!r}"])
    run.cells.append(nbformat.v4.new_code_cell(f"from rlgrade.check import check as _rlgrade_check\n"
                                               f"_rlgrade_report = _rlgrade_check({args})"))
    run.cells.append(nbformat.v4.new_code_cell(
        f"import json as _rlgrade_json\nprint({RESULT_MARKER!r} + _rlgrade_json.dumps(_rlgrade_report.to_json()))"))
    with tempfile.TemporaryDirectory(prefix="rlgrade-check-") as sockets:
        run_in_kernel(run, this_python_kernel(Path(sockets)), path.parent, timeout)
    errors = [f"cell {index}: {error}" for (index, _), ran in zip(student, run.cells, strict=False)  # + the check() cells
              for error in cell_errors(ran)]
    shown, result = cell_text(run.cells[-2]), cell_text(run.cells[-1])
    for line in result.splitlines():
        if line.startswith(RESULT_MARKER):
            return report_from_json(json.loads(line[len(RESULT_MARKER):])), shown, errors
    raise RuntimeError(f"check() could not run in the notebook's kernel:\n{shown or result}")


def run_in_kernel(nb, km, cwd: Path, timeout: int) -> None:
    """Execute ``nb`` in place (outputs kept, errors too) in a kernel started by ``km`` in ``cwd``."""
    from nbclient import NotebookClient  # noqa: PLC0415 - slow imports, only for this verb
    from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: PLC0415

    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True, shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute(cleanup_kc=True)  # shut the kernel down after (by default only kernels nbclient made)
    except CellTimeoutError as exc:
        raise RuntimeError(f"a cell ran longer than {timeout} s: {str(exc).splitlines()[0]}") from None
    except DeadKernelError as exc:
        raise RuntimeError(f"the kernel died while running the notebook: {exc}") from None


def this_python_kernel(sockets: Path):
    """A kernel manager for a kernel of *this* Python (where rlgrade is installed), whatever
    other "python3" kernelspecs the user has installed: with no kernel directories,
    jupyter_client falls back to its native kernel, ``sys.executable -m ipykernel_launcher``.
    It talks over IPC sockets in the folder ``sockets`` (files only this user can open) rather
    than TCP on localhost, which any local user could connect to (ipykernel warns about it)."""
    from jupyter_client import KernelManager  # noqa: PLC0415
    from jupyter_client.kernelspec import KernelSpecManager  # noqa: PLC0415

    return KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]),
                         transport="ipc", ip=str(sockets / "kernel"))


def cell_text(cell) -> str:
    """A cell's printed output and error, as the student would see it."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
    return "".join(parts + [error + "\n" for error in cell_errors(cell)])


def cell_errors(cell) -> list[str]:
    """The exceptions a cell raised, as ``Type: message``."""
    return [f"{output.get('ename')}: {output.get('evalue')}" for output in cell.get("outputs", [])
            if output.get("output_type") == "error"]


def report_from_json(data: dict) -> CheckReport:
    return CheckReport(data["notebook"], tuple(QuestionCheck(q["question"], q["status"], q["message"])
                                               for q in data["questions"]))
