import nbformat
import pytest

from conftest import ADD_ONE, cell, tiny_notebook
from rlgrade.notebook import NotebookError, graded_cells, is_self_check, is_training, read_notebook, runs_only_in_notebook


def write_nb(tmp_path, nb, name="nb.ipynb"):
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_graded_cells_are_the_solution_cells_named_by_grade_id(tmp_path):
    nb = tiny_notebook()
    cells = graded_cells(nb, tmp_path / "nb.ipynb")
    assert [(c.index, c.grade_id) for c in cells] == [(2, "add_one"), (4, "scale")]
    assert "BEGIN SOLUTION" not in cells[0].reference_code and "return x + 1" in cells[0].reference_code


@pytest.mark.parametrize("source, line, words", [
    (ADD_ONE.replace("### END SOLUTION", "### END SOLUTON"), 3, "never closed"),
    (ADD_ONE.replace("### BEGIN SOLUTION", "## BEGIN SOLUTION"), 3, "malformed marker"),
    (ADD_ONE.replace("### END SOLUTION", "### BEGIN SOLUTION"), 5, "nested"),
    (ADD_ONE.replace("### BEGIN SOLUTION", "pass"), 5, "without a"),
])
def test_marker_errors_name_notebook_cell_and_line(tmp_path, source, line, words):
    nb = tiny_notebook()
    nb.cells[2].source = source
    with pytest.raises(NotebookError) as err:
        graded_cells(nb, tmp_path / "nb.ipynb")
    assert err.value.cell == 2 and err.value.line == line
    assert words in str(err.value) and "nb.ipynb, cell 2, line" in str(err.value)


def test_missing_grade_id_is_an_error_naming_the_cell(tmp_path):
    nb = tiny_notebook()
    del nb.cells[4].metadata["nbgrader"]["grade_id"]
    with pytest.raises(NotebookError, match=r"nb.ipynb, cell 4, line 1: solution cell has no nbgrader grade_id"):
        graded_cells(nb, tmp_path / "nb.ipynb")


def test_marker_outside_a_solution_cell_is_an_error(tmp_path):
    nb = tiny_notebook()
    nb.cells.append(cell("code", "x = 1\n### BEGIN SOLUTION\n### END SOLUTION", grade_id="oops"))
    with pytest.raises(NotebookError, match="cell 5, line 2: solution marker in a cell not marked"):
        graded_cells(nb, tmp_path / "nb.ipynb")


@pytest.mark.parametrize("extra, message", [
    ("\n\ndef helper():\n    pass", "exactly one top-level function"),
    ("\n\nprint('hi')", "exactly one top-level function"),
])
def test_solution_cell_holds_exactly_one_function(tmp_path, extra, message):
    nb = tiny_notebook()
    nb.cells[2].source = ADD_ONE + extra
    with pytest.raises(NotebookError, match=message):
        graded_cells(nb, tmp_path / "nb.ipynb")


def test_function_name_must_equal_grade_id(tmp_path):
    nb = tiny_notebook()
    nb.cells[2].metadata["nbgrader"]["grade_id"] = "plus_one"
    with pytest.raises(NotebookError, match="named 'add_one' but the cell's grade_id is 'plus_one'"):
        graded_cells(nb, tmp_path / "nb.ipynb")


def test_duplicate_grade_ids_are_refused(tmp_path):
    nb = tiny_notebook()
    nb.cells[4].metadata["nbgrader"]["grade_id"] = "add_one"
    nb.cells[4].source = ADD_ONE
    with pytest.raises(NotebookError, match="already used by cell 2"):
        graded_cells(nb, tmp_path / "nb.ipynb")


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not valid JSON"),
    (b'{"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}', "version 4 is required"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}', "schema"),
])
def test_unreadable_notebooks_raise_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=message) as err:
        read_notebook(path)
    assert "broken.ipynb" in str(err.value)


@pytest.mark.parametrize("source, skipped", [
    ("from rlgrade import check\ncheck()", True),  # the cell the release appends
    ('from rlgrade import check; check("gae")', True),
    ('check("gae")\ncheck("gae_token_level")', True),  # check imported in an earlier cell
    ("import rlgrade\nreport = rlgrade.check(quiet=True)", True),
    ("from rlgrade.check import check as c\nc()", True),
    ("from rlgrade import check", True),
    ("from rlgrade import check\ncheck()\nx = 1", False),  # the student's code too: it must run
    ("from rlgrade import check\ndef gae(r):\n    return r", False),
    ("print(check())", False),
    ("import torch", False),
    ("", False),
    ("check(", False),  # does not parse: the worker reports the SyntaxError
])
def test_self_check_cells_are_recognised_by_their_code(source, skipped):
    assert is_self_check(nbformat.v4.new_code_cell(source)) is skipped
    assert not is_self_check(nbformat.v4.new_markdown_cell(source))


@pytest.mark.parametrize("source, training", [
    ('from rlgrade.finetune import train_here\n\nmodel, log = train_here("sft", globals())', True),  # the release's
    ('model, log = train_here("dpo", globals(), model="smollm2")', True),  # imported in an earlier cell
    ("from rlgrade.finetune import plot_log as plot\nplot(log)", True),
    ("import rlgrade.finetune", True),
    ('from rlgrade.finetune import train_here\nmodel, log = train_here("sft", globals())\nprint(log[-1])', False),
    ('from rlgrade.finetune import train_here\ndef sft_loss(l, i, m):\n    return l.sum()', False),
    ("check()", False),  # a self-check, not a training cell
    ("", False),
])
def test_training_cells_are_recognised_by_their_code(source, training):
    cell = nbformat.v4.new_code_cell(source)
    assert is_training(cell) is training
    assert runs_only_in_notebook(cell) is (training or is_self_check(cell))


def test_a_cell_that_checks_and_trains_runs_only_in_the_notebook():
    cell = nbformat.v4.new_code_cell('from rlgrade import check\nfrom rlgrade.finetune import train_here\n'
                                     'check()\nmodel, log = train_here("sft", globals())')
    assert runs_only_in_notebook(cell) and not is_self_check(cell) and not is_training(cell)
