"""Shared fixtures: a tiny two-question course built from scratch in a temp dir."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from rlgrade.course import Course
from rlgrade.sandbox import sandbox_available

REPO = Path(__file__).resolve().parents[1]

ADD_ONE = '''def add_one(x):
    """Return x + 1, elementwise, keeping the dtype."""
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION'''

SCALE = '''def scale(x, k=2.0):
    """Return k * x."""
    ### BEGIN SOLUTION
    return x * k
    ### END SOLUTION'''

TEST_ADD_ONE = '''
import pytest
import torch
from hypothesis import given

from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, tensors
from hypothesis import strategies as st

ref = reference_for(__file__)
pytestmark = pytest.mark.question("add_one")


@pytest.mark.points(2)
@given(x=st.integers(1, 4).flatmap(lambda n: tensors((n,), torch.float64)))
def test_matches_reference(student, x):
    """add_one adds one to every element."""
    assert_close(student.add_one(x), ref.add_one(x), inputs={"x": x})


def test_keeps_float32(student):
    """The result keeps float32."""
    got = student.add_one(torch.zeros(3))
    assert_close(got, torch.ones(3))
'''

TEST_SCALE = '''
import pytest
import torch

from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)


@pytest.mark.points(3)
def test_default_factor(student):
    """scale doubles by default."""
    x = torch.arange(4.0)
    assert_close(student.scale(x), ref.scale(x), inputs={"x": x})
'''

VARIANTS = '''
from rlgrade.testing import misconception, rewrite


@misconception("add_one", "adds two")
def add_two(x):
    return x + 2


@misconception("add_one", "returns float64")
def promotes(x):
    import torch
    return x.to(torch.float64) + 1


@misconception("add_one", "subtracts")
def minus(x):
    return x - 1


@rewrite("add_one", "adds a ones tensor")
def plus_ones(x):
    import torch
    return x + torch.ones_like(x)
'''


def cell(kind: str, source: str, **meta) -> nbformat.NotebookNode:
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    c = make(source)
    c.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False, "locked": True, **meta}
    return c


def tiny_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        cell("markdown", "# Tiny problem set", grade_id="intro"),
        cell("code", "import torch", grade_id="setup"),
        cell("code", ADD_ONE, grade_id="add_one", solution=True, locked=False),
        cell("code", "assert add_one(torch.zeros(1)).item() == 1.0", grade_id="check_add_one", grade=True, points=0),
        cell("code", SCALE, grade_id="scale", solution=True, locked=False),
    ]
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i}"
    return nb


def index_of(nb, grade_id: str) -> int:
    """The position of the cell with this nbgrader ``grade_id`` (the release adds cells, so a
    release notebook's positions are not the source's)."""
    return next(i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def tiny_course(tmp_path: Path) -> Course:
    """A course with one assignment (lesson_01: add_one, scale), released, with hidden tests."""
    from rlgrade.release import release

    root = tmp_path / "course"
    (root / "source" / "lesson_01").mkdir(parents=True)
    nbformat.write(tiny_notebook(), root / "source" / "lesson_01" / "problem_set.ipynb")
    for init in ("autograder/__init__.py", "autograder/lesson_01/__init__.py", "autograder/lesson_01/variants/__init__.py"):
        write(root / init, "")
    write(root / "autograder/lesson_01/test_add_one.py", TEST_ADD_ONE)
    write(root / "autograder/lesson_01/test_scale.py", TEST_SCALE)
    write(root / "autograder/lesson_01/variants/add_one.py", VARIANTS)
    course = Course(root)
    release(course)
    return course


def forget_hidden_tests() -> None:
    """Drop imported hidden-test modules. A grader runs one pytest session per process; a test that runs
    hidden tests in its own process may run several (another course's ``autograder``, a course secret's
    seed left on a test function), so it forgets them before and after."""
    for name in [name for name in sys.modules if name == "autograder" or name.startswith("autograder.")]:
        del sys.modules[name]


def submission(directory: Path, name: str, code: str) -> Path:
    """A .py submission with the given source."""
    return write(directory / f"{name}.py", code)


# Skipped only on a developer machine without bubblewrap; in CI (CI=true) they run, and fail loudly.
needs_sandbox = pytest.mark.skipif(not sandbox_available() and not os.environ.get("CI"),
                                   reason="bubblewrap is not usable here")
