"""Reading a submission against its release notebook (the batch-level cases are in tests/robustness/)."""

import copy

import nbformat
import pytest

from conftest import index_of, tiny_notebook
from rlgrade.notebook import NotebookError
from rlgrade.release import student_notebook
from rlgrade.submission import read_submission


@pytest.fixture
def release(tmp_path):
    path = tmp_path / "release.ipynb"
    nbformat.write(student_notebook(tiny_notebook()), path)
    return path


def submitted(tmp_path, release, edit=None, name="s.ipynb"):
    nb = nbformat.read(release, as_version=4)
    nb.cells[index_of(nb, "add_one")].source = "def add_one(x):\n    return x + 1"
    nb.cells[index_of(nb, "scale")].source = "def scale(x, k=2.0):\n    return k * x"
    if edit:
        edit(nb)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_check_cells_are_skipped_and_magics_commented_out(tmp_path, release):
    def magics(nb):
        nb.cells[3].source = "%time 1\n!pip install foo\n" + nb.cells[3].source

    code = read_submission(submitted(tmp_path, release, magics), release)
    # 0 intro, 1 the check how-to, 2 setup, 3 add_one, 4 its public check, 5 scale, 6 check(): both skipped
    assert [index for index, _ in code.cells] == [2, 3, 5]
    assert code.cells[1][1].splitlines()[:2] == ["# %time 1", "# !pip install foo"]
    assert code.problems == ()


def test_a_python_file_is_one_cell_checked_for_the_graded_functions(tmp_path, release):
    path = tmp_path / "s.py"
    path.write_text("def add_one(x):\n    return x + 1\n")
    code = read_submission(path, release)
    assert code.cells == ((0, "def add_one(x):\n    return x + 1\n"),)
    assert len(code.problems) == 1 and "no function named 'scale'" in code.problems[0]


def test_an_edited_locked_cell_runs_as_released(tmp_path, release):
    code = read_submission(submitted(tmp_path, release, lambda nb: setattr(nb.cells[2], "source", "import os")), release)
    assert code.cells[0] == (2, "import torch")
    assert code.problems == ("cell 2 ('setup') is locked and was edited; the released version was run instead",)


def test_a_function_written_with_other_defaults_or_annotations_is_not_a_problem(tmp_path, release):
    def rewrite(nb):
        nb.cells[5].source = "import torch\n\ndef scale(x: torch.Tensor, k: float = 2) -> torch.Tensor:\n    return x * k"

    assert read_submission(submitted(tmp_path, release, rewrite), release).problems == ()


def test_without_a_release_every_code_cell_but_the_checks_runs(tmp_path, release):
    code = read_submission(submitted(tmp_path, release), None)
    assert [index for index, _ in code.cells] == [2, 3, 5] and code.problems == ()


@pytest.mark.parametrize("content, says", [(b"", "is empty"), (b"x" * 2048, "MB are not graded")])
def test_empty_and_oversized_files_are_refused_unread(tmp_path, release, content, says):
    path = tmp_path / "s.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=says):
        read_submission(path, release, max_bytes=1024)


def test_a_copied_notebook_without_metadata_still_runs_top_to_bottom(tmp_path, release):
    def strip(nb):
        for c in nb.cells:
            c.metadata = {}
            c.id = f"new-{id(c)}"

    code = read_submission(submitted(tmp_path, release, strip), release)
    # the public check (4) is no longer recognisable; check() (6) still is, by its code
    assert [index for index, _ in code.cells] == [2, 3, 4, 5]
    assert code.problems == ("the notebook has no nbgrader metadata (was it copied into a new notebook?): "
                             "every code cell was run, top to bottom",)


def test_self_check_cells_are_skipped_whether_kept_edited_copied_or_deleted(tmp_path, release):
    """rlgrade is not importable where a submission runs: check() cells would only raise there.
    The release's own check() cell is not a locked cell to restore either."""
    def own_checks(nb):
        nb.cells.insert(4, nbformat.v4.new_code_cell('from rlgrade import check\ncheck("add_one")', id="mine"))
        nb.cells.append(nbformat.v4.new_code_cell('check("scale")', id="mine-too"))

    code = read_submission(submitted(tmp_path, release, own_checks), release)
    assert [index for index, _ in code.cells] == [2, 3, 6] and code.problems == ()
    deleted = read_submission(submitted(tmp_path, release, lambda nb: nb.cells.pop()), release)
    assert [index for index, _ in deleted.cells] == [2, 3, 5] and deleted.problems == ()
