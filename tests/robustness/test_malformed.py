"""Malformed submissions: each gets a row that names its problem, and the batch goes on.

Every kind is graded in one batch next to a well-formed submission. A notebook that
cannot be graded at all gets an ``error`` row whose message names the file and the
problem; one that can be graded despite the damage gets its points for what still
works, and the damage is named in the row's warnings.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from conftest import index_of, needs_sandbox, tiny_notebook, write
from rlgrade.course import Course
from rlgrade.grade import GradeOptions, grade
from rlgrade.gradebook import Gradebook
from rlgrade.sandbox import Limits

pytestmark = needs_sandbox

ADD_ONE = "def add_one(x):\n    return x + 1"
SCALE = "def scale(x, k=2.0):\n    return k * x"
OPTIONS = GradeOptions(limits=Limits(call_seconds=3, startup_seconds=60), submission_seconds=120)


@dataclass(frozen=True)
class Kind:
    """A malformed submission and what its row must say."""

    status: str
    says: str
    """Text the row's error (status 'error') or warnings (status 'graded') must contain."""
    score: float = 0.0


def solved(release: Path) -> nbformat.NotebookNode:
    """The release notebook with both functions implemented (a 6/6 submission)."""
    nb = nbformat.read(release, as_version=4)
    nb.cells[index_of(nb, "add_one")].source = ADD_ONE
    nb.cells[index_of(nb, "scale")].source = SCALE
    return nb


def dumps(nb) -> bytes:
    return nbformat.writes(nb).encode()


def edited(nb, edit) -> bytes:
    nb = copy.deepcopy(nb)
    edit(nb)
    return json.dumps(nb, indent=1).encode()  # json, not nbformat.writes: some edits break the schema on purpose


def big_output(nb):
    nb.cells[index_of(nb, "add_one")].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (100 * 1024**2))]


def retype(nb, index, cell_type):
    old = nb.cells[index]
    nb.cells[index] = nbformat.v4.new_markdown_cell(old.source, metadata=old.metadata, id=old.id) \
        if cell_type == "markdown" else nbformat.v4.new_raw_cell(old.source, metadata=old.metadata, id=old.id)


def set_source(index, source):
    def edit(nb):
        nb.cells[index].source = source
    return edit


def insert(index, source):
    def edit(nb):
        nb.cells.insert(index, nbformat.v4.new_code_cell(source, id=f"extra-{index}"))
    return edit


def drop_metadata(indices):
    def edit(nb):
        for i in indices if indices != "all" else range(len(nb.cells)):
            nb.cells[i].metadata.pop("nbgrader", None)
    return edit


def delete(index):
    def edit(nb):
        del nb.cells[index]
    return edit


def duplicate(index, source):
    def edit(nb):
        copy_ = copy.deepcopy(nb.cells[index])
        copy_.source, copy_.id = source, "copied"
        nb.cells.insert(index + 1, copy_)
    return edit


def multiline_sources(nb):
    for cell in nb.cells:
        cell.source = cell.source.splitlines(True)
    nb.metadata["unknown_tool"] = {"x": [1, 2]}


def malformed(release: Path) -> dict[str, tuple[bytes, str, Kind]]:
    """student id → (file bytes, suffix, expected row)."""
    good = solved(release)
    text = dumps(good)
    # positions in the release notebook (which has more cells than the source: the check how-to, check())
    setup, add_one, scale = (index_of(good, gid) for gid in ("setup", "add_one", "scale"))
    nb3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}
    return {
        # cannot be graded at all
        "invalid_json": (b"{not json", ".ipynb", Kind("error", "is not valid JSON")),
        "truncated": (text[: len(text) // 2], ".ipynb", Kind("error", "is not valid JSON")),
        "nbformat_3": (json.dumps(nb3).encode(), ".ipynb", Kind("error", "version 4 is required")),
        "nbformat_missing": (edited(good, lambda nb: nb.pop("nbformat")), ".ipynb", Kind("error", "version 4 is required")),
        "schema_broken": (edited(good, lambda nb: nb.cells[add_one].pop("source")), ".ipynb", Kind("error", "notebook schema")),
        "not_utf8": (text.replace(b"return x + 1", b"return x + 1 # \xff\xfe"), ".ipynb", Kind("error", "not UTF-8")),
        "binary_file": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, ".ipynb", Kind("error", "not UTF-8")),
        "empty_file": (b"", ".ipynb", Kind("error", "is empty")),
        "json_list": (b"[1, 2, 3]", ".ipynb", Kind("error", "not a notebook")),
        "huge_100mb": (edited(good, big_output), ".ipynb", Kind("error", "MB are not graded")),
        "no_code_cells": (edited(good, lambda nb: nb.__setitem__("cells", nb.cells[:1])), ".ipynb",
                          Kind("error", "has no code cells")),
        "never_ends": (edited(good, insert(setup, "while True:\n    pass")), ".ipynb", Kind("error", "did not finish within 3 s")),
        "kills_worker_on_load": (edited(good, insert(setup, "import os\nos._exit(3)")), ".ipynb",
                                 Kind("error", "ended the worker")),
        "py_not_utf8": (b"def add_one(x):\n    return x + 1  # \xe9\n", ".py", Kind("error", "not UTF-8")),
        # graded despite the damage, which the warnings name
        "missing_function": (edited(good, delete(scale)), ".ipynb", Kind("graded", "no function named 'scale'", 3.0)),
        "renamed_function": (edited(good, set_source(scale, SCALE.replace("def scale", "def scale2"))), ".ipynb",
                             Kind("graded", "no function named 'scale'", 3.0)),
        "changed_signature": (edited(good, set_source(scale, "def scale(k, x):\n    return k * x")), ".ipynb",
                              Kind("graded", "has the signature scale(k, x), but the notebook asks for scale(x, k=2.0)", 3.0)),
        "syntax_error": (edited(good, set_source(scale, "def scale(x, k=2.0):\n    return k * x)")), ".ipynb",
                         Kind("graded", "SyntaxError", 3.0)),
        "cell_type_changed": (edited(good, lambda nb: retype(nb, add_one, "markdown")), ".ipynb",
                              Kind("graded", "changed from code to markdown", 3.0)),
        "cell_made_raw": (edited(good, lambda nb: retype(nb, scale, "raw")), ".ipynb", Kind("graded", "changed from code to raw", 3.0)),
        "metadata_removed": (edited(good, drop_metadata([add_one])), ".ipynb", Kind("graded", "lost its nbgrader metadata", 6.0)),
        "all_metadata_removed": (edited(good, drop_metadata("all")), ".ipynb", Kind("graded", "no nbgrader metadata", 6.0)),
        "locked_cell_edited": (edited(good, set_source(setup, "raise SystemExit('no setup for you')")), ".ipynb",
                               Kind("graded", "is locked and was edited", 6.0)),
        "locked_cell_deleted": (edited(good, delete(setup)), ".ipynb", Kind("graded", "were deleted", 6.0)),
        "duplicate_cells": (edited(good, duplicate(add_one, "def add_one(x):\n    return x + 2")), ".ipynb",
                            Kind("graded", f"repeats cell {add_one}", 3.0)),
        "defined_twice": (edited(good, insert(scale + 1, "def add_one(x):\n    return x - 1")), ".ipynb",
                          Kind("graded", "'add_one' is defined 2 times", 3.0)),
        "top_level_raises": (edited(good, insert(scale + 1, "1 / 0")), ".ipynb", Kind("graded", "ZeroDivisionError", 6.0)),
        "other_assignment": (edited(good, lambda nb: [set_source(add_one, "def gae(r):\n    return r")(nb),
                                                      set_source(scale, "def dpo_loss(a):\n    return a")(nb)]),
                             ".ipynb", Kind("graded", "no function named 'add_one'", 0.0)),
        "multiline_sources_and_foreign_metadata": (edited(good, multiline_sources), ".ipynb", Kind("graded", "", 6.0)),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    from conftest import TEST_ADD_ONE, TEST_SCALE, VARIANTS
    from rlgrade.release import release

    root = tmp_path_factory.mktemp("malformed") / "course"
    (root / "source" / "lesson_01").mkdir(parents=True)
    nbformat.write(tiny_notebook(), root / "source" / "lesson_01" / "problem_set.ipynb")
    for init in ("autograder/__init__.py", "autograder/lesson_01/__init__.py", "autograder/lesson_01/variants/__init__.py"):
        write(root / init, "")
    write(root / "autograder/lesson_01/test_add_one.py", TEST_ADD_ONE)
    write(root / "autograder/lesson_01/test_scale.py", TEST_SCALE)
    write(root / "autograder/lesson_01/variants/add_one.py", VARIANTS)
    course = Course(root)
    release(course)
    kinds = malformed(course.release_notebook("lesson_01"))
    subs = root.parent / "submissions"
    subs.mkdir()
    (subs / "well_formed.ipynb").write_bytes(dumps(solved(course.release_notebook("lesson_01"))))
    for student, (content, suffix, _) in kinds.items():
        (subs / f"{student}{suffix}").write_bytes(content)
    url = f"sqlite:///{root.parent}/gradebook.db"
    report = grade(course, "lesson_01", [subs], gradebook_url=url, workers=2, options=OPTIONS)
    return kinds, {r.student: r for r in report.results}, Gradebook(url)


def test_there_are_at_least_twenty_kinds(batch):
    kinds, _, _ = batch
    assert len(kinds) >= 20


def test_the_batch_goes_on_and_every_submission_has_one_row(batch):
    kinds, results, gradebook = batch
    assert set(results) == set(kinds) | {"well_formed"}
    assert sorted(r.student for r in gradebook.current_results("lesson_01")) == sorted(results)
    assert (results["well_formed"].status, results["well_formed"].score, results["well_formed"].warnings) == ("graded", 6.0, ())


KIND_NAMES = ["invalid_json", "truncated", "nbformat_3", "nbformat_missing", "schema_broken", "not_utf8", "binary_file",
              "empty_file", "json_list", "huge_100mb", "no_code_cells", "never_ends", "kills_worker_on_load",
              "py_not_utf8", "missing_function", "renamed_function", "changed_signature", "syntax_error",
              "cell_type_changed", "cell_made_raw", "metadata_removed", "all_metadata_removed", "locked_cell_edited",
              "locked_cell_deleted", "duplicate_cells", "defined_twice", "top_level_raises", "other_assignment",
              "multiline_sources_and_foreign_metadata"]


def test_the_kind_list_matches_the_table(batch):
    kinds, _, _ = batch
    assert list(kinds) == KIND_NAMES


@pytest.mark.parametrize("student", KIND_NAMES)
def test_each_kind_gets_a_row_that_names_its_problem(batch, student):
    kinds, results, _ = batch
    expected, row = kinds[student][2], results[student]
    assert row.status == expected.status, (row.error, row.warnings)
    if expected.status == "error":
        assert expected.says in row.error and f"{student}." in row.error, row.error
        assert row.max_score == 6.0 and row.score == 0.0
    else:
        assert row.error is None
        if expected.says:
            assert any(expected.says in w for w in row.warnings), row.warnings
        else:
            assert row.warnings == ()
        assert row.score == expected.score, row.to_json()["questions"]
