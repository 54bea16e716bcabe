import re

import nbformat
import pytest

from conftest import REPO, index_of
from rlgrade.course import Course
from rlgrade.notebook import NotebookError, setup_code
from rlgrade.release import CHECK_ALL_ID, CHECK_HOWTO_ID, release, student_transforms
from rlgrade.validate import variants_of


def test_release_writes_stub_notebook_and_reference_module(tiny_course):
    nb = nbformat.read(tiny_course.release_notebook("lesson_01"), as_version=4)
    add_one = nb.cells[index_of(nb, "add_one")].source
    assert add_one.startswith("def add_one(x):\n    \"\"\"Return x + 1")
    assert "raise NotImplementedError()" in add_one and "return x + 1" not in add_one
    module = tiny_course.solution_module("lesson_01").read_text()
    assert "import torch" in module and "return x + 1" in module and "BEGIN SOLUTION" not in module


def test_released_cells_are_locked_cleared_and_checksummed(tiny_course):
    nb = nbformat.read(tiny_course.release_notebook("lesson_01"), as_version=4)
    check_cell, solution_cell = nb.cells[index_of(nb, "check_add_one")], nb.cells[index_of(nb, "add_one")]
    assert check_cell.metadata["editable"] is False and check_cell.metadata["deletable"] is False
    assert solution_cell.metadata["deletable"] is False and "editable" not in solution_cell.metadata
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert all("checksum" in c.metadata["nbgrader"] for c in nb.cells)


def test_release_adds_the_check_how_to_and_a_check_cell(tiny_course):
    """After the title: how to run check(); at the end: check(). Locked and checksummed like the rest,
    only in the student's notebook (the reference module has no check() call)."""
    nb = nbformat.read(tiny_course.release_notebook("lesson_01"), as_version=4)
    assert [index_of(nb, gid) for gid in ("intro", CHECK_HOWTO_ID, "setup")] == [0, 1, 2]
    howto, last = nb.cells[1], nb.cells[-1]
    assert howto.cell_type == "markdown" and 'check("add_one")' in howto.source and "check()" in howto.source
    assert (last.cell_type, last.source, last.metadata["nbgrader"]["grade_id"]) == \
        ("code", "from rlgrade import check\ncheck()", CHECK_ALL_ID)
    for added in (howto, last):
        assert added.metadata["editable"] is False and added.metadata["deletable"] is False
        assert added.metadata["nbgrader"]["locked"] and "checksum" in added.metadata["nbgrader"]
    assert "check()" not in tiny_course.solution_module("lesson_01").read_text()
    source = nbformat.read(tiny_course.source_notebook("lesson_01"), as_version=4)
    assert len(nb.cells) == len(source.cells) + 2 and not any("rlgrade" in code for code in setup_code(source))
    # "Run All" goes on past an unfinished question's examples (they raise) to the final check()
    assert nb.cells[index_of(nb, "check_add_one")].metadata["tags"] == ["raises-exception"]
    assert all("tags" not in c.metadata for c in nb.cells if c.metadata["nbgrader"]["grade_id"] != "check_add_one")


def test_a_source_may_not_take_the_check_cells_grade_ids(tiny_course):
    path = tiny_course.source_notebook("lesson_01")
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].metadata["nbgrader"]["grade_id"] = CHECK_HOWTO_ID
    nbformat.write(nb, path)
    with pytest.raises(NotebookError, match=f"cell 0, line 1: '{CHECK_HOWTO_ID}' is reserved"):
        release(tiny_course)


def test_check_mode_reports_stale_outputs_without_writing(tiny_course):
    path = tiny_course.solution_module("lesson_01")
    path.write_text(path.read_text() + "\n# edited by hand\n")
    report = release(tiny_course, check=True)
    assert report.stale == (path,)
    assert path.read_text().endswith("# edited by hand\n")
    release(tiny_course)
    assert release(tiny_course, check=True).stale == ()


def test_release_is_deterministic(tiny_course):
    before = tiny_course.release_notebook("lesson_01").read_bytes()
    assert release(tiny_course).written == ()
    assert tiny_course.release_notebook("lesson_01").read_bytes() == before


def test_transforms_clear_solutions_before_checksums():
    names = [type(t).__name__ for t in student_transforms()]
    assert names.index("ClearSolutions") < names.index("ComputeChecksums")
    assert names[-1] == "ComputeChecksums"  # checksums must see the final cells


def solution_lines(course: Course, assignment: str) -> set[str]:
    """Lines of reference code that are specific enough to count as a leak."""
    nb = nbformat.read(course.source_notebook(assignment), as_version=4)
    lines = set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.split("\n"):
            if "BEGIN SOLUTION" in line:
                inside = True
            elif "END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


def public_text(course: Course, assignment: str) -> str:
    """The source notebook outside its solution regions: what students may see anyway."""
    nb = nbformat.read(course.source_notebook(assignment), as_version=4)
    return "\n".join(re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", c.source, flags=re.S) for c in nb.cells)


def hidden_test_names(course: Course, assignment: str) -> set[str]:
    """Hidden test names and the names of the known-mistake / rewrite variants (unless public words)."""
    names = set()
    for path in course.tests_dir(assignment).rglob("test_*.py"):
        names |= set(re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M))
    for variants in variants_of(course, assignment).values():
        names |= {variant.name for variant, _ in variants}
    public = public_text(course, assignment)
    return {name for name in names if not re.search(rf"\b{re.escape(name)}\b", public)}


@pytest.mark.parametrize("course", ["tiny", "shipped"])
def test_no_released_file_leaks_solutions_or_hidden_test_names(course, tiny_course):
    course = tiny_course if course == "tiny" else Course(REPO)
    for assignment in course.assignments():
        lines, names = solution_lines(course, assignment), hidden_test_names(course, assignment)
        assert lines | names, "the leak test must have something to look for"
        for path in (course.release_dir / assignment).rglob("*"):
            if path.is_file():
                text = path.read_text(errors="replace")
                # names are words: "simultaneous" is not leaked by "simultaneously"
                leaked = sorted({s for s in lines if s in text} | {n for n in names if re.search(rf"\b{n}\b", text)})
                assert not leaked, f"{path} leaks {leaked[:5]}"


def test_shipped_release_is_current():
    assert release(Course(REPO), check=True).stale == ()
