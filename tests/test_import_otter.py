"""`rlgrade import otter`: an otter-grader master notebook becomes a source notebook that releases."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

pytest.importorskip("otter.assign", reason="otter-grader (the dev extra) is not installed")

from rlgrade.cli import app  # noqa: E402
from rlgrade.course import Course  # noqa: E402
from rlgrade.importers import OtterImportError, import_otter  # noqa: E402
from rlgrade.notebook import nbgrader_meta, read_notebook  # noqa: E402
from rlgrade.release import release  # noqa: E402

raw, md, code = nbformat.v4.new_raw_cell, nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell


def output(cell, text: str):
    """A test cell with its recorded output, as otter reads it from the master."""
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=1)]
    return cell


ADD_ONE = '''def add_one(x):
    """Return x + 1."""
    # BEGIN SOLUTION
    y = x + 1
    # END SOLUTION
    return y'''

SCALE = '''def scale(x, k=2):
    """Return k * x."""
    return x * k  # SOLUTION'''


def master(solution_q2: str = SCALE) -> nbformat.NotebookNode:
    cells = [
        md("# Lesson 13 problem set\n\nTwo small functions."),
        code("import math"),
        raw("# BEGIN QUESTION\nname: q1\npoints: 2"),
        md("**Question 1.** Write `add_one`."),
        raw("# BEGIN SOLUTION"),
        code(ADD_ONE),
        raw("# END SOLUTION"),
        raw("# BEGIN TESTS"),
        output(code("add_one(1) == 2"), "True"),
        output(code("# HIDDEN\nadd_one(-1) == 0"), "True"),
        raw("# END TESTS"),
        raw("# END QUESTION"),
        md("```otter\n# BEGIN QUESTION\nname: q2\npoints: 3\n```\n\n**Question 2.** Write `scale`."),
        raw("# BEGIN SOLUTION"),
        code(solution_q2),
        raw("# END SOLUTION"),
        raw("# BEGIN TESTS"),
        output(code("scale(3)"), "6"),
        output(code('""" # BEGIN TEST CONFIG\nhidden: true\npoints: 1\n""" # END TEST CONFIG\nscale(2, k=5)'), "10"),
        raw("# END TESTS"),
        raw("# END QUESTION"),
    ]
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})


@pytest.fixture
def course(tmp_path) -> Course:
    (tmp_path / "source").mkdir()
    return Course(tmp_path)


def write(nb, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


def test_import_then_release(course, tmp_path):
    report = import_otter(write(master(), tmp_path / "master.ipynb"), course, "lesson_13")
    assert [(q.name, q.function, len(q.public), len(q.hidden)) for q in report.questions] == [
        ("q1", "add_one", 1, 1), ("q2", "scale", 1, 1)]

    nb = read_notebook(course.source_notebook("lesson_13"))
    metas = [(c.cell_type, nbgrader_meta(c).get("grade_id"), nbgrader_meta(c).get("solution"),
              nbgrader_meta(c).get("grade"), nbgrader_meta(c).get("points")) for c in nb.cells]
    kinds = [(t, g, s, gr, p) for t, g, s, gr, p in metas if s or gr]
    assert kinds == [("code", "add_one", True, False, None), ("code", "check_add_one", False, True, 0),
                     ("code", "scale", True, False, None), ("code", "check_scale", False, True, 0)]
    assert all(nbgrader_meta(c).get("schema_version") == 3 for c in nb.cells)
    texts = "\n".join(c.source for c in nb.cells)
    assert "# BEGIN QUESTION" not in texts and "name: q1" not in texts  # otter config consumed
    assert "**Question 1.**" in texts and "**Question 2.**" in texts and "import math" in texts
    add_one = next(c.source for c in nb.cells if nbgrader_meta(c).get("grade_id") == "add_one")
    assert "    ### BEGIN SOLUTION\n    y = x + 1\n    ### END SOLUTION\n    return y" in add_one
    scale = next(c.source for c in nb.cells if nbgrader_meta(c).get("grade_id") == "scale")
    assert "### BEGIN SOLUTION\n    return x * k\n    ### END SOLUTION" in scale and "# SOLUTION\n" not in scale
    checks = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c).get("grade")}
    assert "add_one(1) == 2" in checks["check_add_one"] and "add_one(-1)" not in checks["check_add_one"]
    assert "scale(3)" in checks["check_scale"] and "k=5" not in checks["check_scale"]

    # the public checks pass on the reference and fail on a wrong answer
    def run(check: str, **functions):
        exec(compile(check, "<check>", "exec"), {**functions})  # noqa: S102

    run(checks["check_add_one"], add_one=lambda x: x + 1)
    run(checks["check_scale"], scale=lambda x, k=2: x * k)
    with pytest.raises(AssertionError, match="expected 6"):
        run(checks["check_scale"], scale=lambda x, k=2: x + k)

    # hidden tests: skeletons, not public checks
    stubs = {p.name: p.read_text() for p in report.hidden_stubs}
    assert set(stubs) == {"test_add_one.py", "test_scale.py"}
    assert "TODO" in stubs["test_add_one.py"] and "add_one(-1) == 0" in stubs["test_add_one.py"]
    assert 'pytest.mark.question("scale")' in stubs["test_scale.py"] and "scale(2, k=5)" in stubs["test_scale.py"]
    compile(stubs["test_scale.py"], "test_scale.py", "exec")

    released = release(course, only=["lesson_13"])
    assert released.questions == {"lesson_13": ["add_one", "scale"]}
    student = read_notebook(course.release_notebook("lesson_13"))
    by_id = {nbgrader_meta(c).get("grade_id"): c.source for c in student.cells}
    assert "raise NotImplementedError()" in by_id["add_one"] and "y = x + 1" not in by_id["add_one"]
    assert "raise NotImplementedError()" in by_id["scale"] and "return x * k" not in by_id["scale"]
    assert by_id["check_add_one"] == checks["check_add_one"] and by_id["check_scale"] == checks["check_scale"]
    reference = course.solution_module("lesson_13").read_text()
    namespace: dict = {}
    exec(compile(reference, "reference", "exec"), namespace)  # noqa: S102
    assert namespace["add_one"](1) == 2 and namespace["scale"](3) == 6


def test_cli_import_and_malformed(course, tmp_path):
    runner = CliRunner()
    path = write(master(), tmp_path / "lesson_14.ipynb")
    result = runner.invoke(app, ["import", "otter", str(path), "--course", str(course.root)])
    assert result.exit_code == 0, result.output
    assert "q1 -> add_one" in result.output and "test_scale.py" in result.output and "TODO" in result.output
    assert course.source_notebook("lesson_14").is_file()
    result = runner.invoke(app, ["release", "lesson_14", "--course", str(course.root)])
    assert result.exit_code == 0, result.output
    # a second import does not overwrite the source notebook silently
    result = runner.invoke(app, ["import", "otter", str(path), "--course", str(course.root)])
    assert result.exit_code == 2 and "--force" in result.output

    bad = write(master("SCALE = 2  # SOLUTION\nresult = SCALE * 3"), tmp_path / "bad.ipynb")
    result = runner.invoke(app, ["import", "otter", str(bad), "--assignment", "lesson_15",
                                 "--course", str(course.root)])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "question 'q2'" in message and "cell 14" in message and "one function definition" in message
    assert not course.source_notebook("lesson_15").exists()
    with pytest.raises(OtterImportError, match="question 'q2'"):
        import_otter(bad, course, "lesson_15")
