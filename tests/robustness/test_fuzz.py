"""Fuzzing the notebook reader and the release transforms: no crash other than NotebookError.

Two families:

- **bytes in**: `read_notebook` / `read_submission` (against a release notebook) on random binary, mutated and truncated
  valid notebooks, JSON of the wrong shape, notebooks with wrong types in their fields,
  odd versions, deep nesting, huge integers, BOMs, NUL bytes, lone surrogates, non-UTF-8.
  The only exception allowed is `NotebookError`, whose message starts with the file's path;
  what is read is then fed to `graded_cells` / `public_checks` / `setup_code`.
- **notebooks in**: structurally valid nbformat-4 notebooks (random cell kinds, sources with
  marker lines in random places, random nbgrader metadata) released the way `rlgrade release`
  does (`release(Course(root))`). Only `NotebookError` may escape; when the release succeeds,
  no line from between a source's BEGIN/END markers is in the release notebook, and the
  release notebook validates. Well-formed notebooks must always release.
"""

from __future__ import annotations

import ast
import copy
import json
import keyword
import os
import re
import tempfile
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import tiny_notebook
from rlgrade.course import Course
from rlgrade.notebook import BEGIN, END, NotebookError, graded_cells, public_checks, read_notebook, setup_code
from rlgrade.release import CODE_STUB, release, student_notebook
from rlgrade.submission import read_submission

pytestmark = pytest.mark.filterwarnings("ignore::nbformat.warnings.DuplicateCellId",
                                        "ignore::nbformat.warnings.MissingIDFieldWarning")

SCALE = int(os.environ.get("RLGRADE_FUZZ_SCALE", "1"))
"""Multiplies every example count: ``RLGRADE_FUZZ_SCALE=50`` for a long local hunt."""
FUZZ = settings(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

VALID = json.loads(nbformat.writes(tiny_notebook()))
VALID_TEXT = nbformat.writes(tiny_notebook())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A scratch folder holding ``release.ipynb``, the tiny course's release notebook (submissions are read against it)."""
    path = tmp_path_factory.mktemp("fuzz")
    nbformat.write(student_notebook(tiny_notebook()), path / "release.ipynb")
    return path


# ---------------------------------------------------------------------------- bytes in

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                         st.text(max_size=10), st.sampled_from(["code", "markdown", "raw", "\ud800", "\x00", 4, 5, 3]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                           max_leaves=12)
# values that a notebook field has no business holding
wrong_values = st.one_of(json_values, st.sampled_from([
    [], {}, "", 0, -1, 4, "4", 4.0, True, None, 10**30, float("nan"), float("inf"), [[[]]], {"nbgrader": []},
]))


def paths_of(value, prefix=()):
    """Every path (tuple of keys/indices) into a JSON value, the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, (*prefix, index))


@st.composite
def mutated_notebooks(draw) -> object:
    """The valid tiny notebook with a few fields replaced by wrong values or deleted."""
    data = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(paths_of(data))
        path = draw(st.sampled_from(paths))
        if not path:
            data = copy.deepcopy(draw(wrong_values))
            break
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(draw(wrong_values))  # the sampled constants are shared: never mutate them
    return data


# targeted shapes: fields the reader and nbgrader index directly
FIELD_SHAPES = {
    ("nbformat",): [3, 5, "4", 4.0, True, None, 10**30, -4, [4]],
    ("nbformat_minor",): [-1, "5", 5.0, None, True, 10**20, 6, 0, 3, float("nan")],
    ("cells",): [3, "cells", None, {}, [3], [None], [[]], [{}]],
    ("metadata",): ["x", [], None, {"kernelspec": 3}, {"kernelspec": {"language": []}}],
    ("cells", 2, "source"): [3, None, ["a", 3], {"a": 1}, "\x00", [BEGIN, END]],
    ("cells", 2, "metadata"): ["x", [], None, 3],
    ("cells", 2, "metadata", "nbgrader"): [[1], "x", None, 3, {"solution": "yes"}, {"grade_id": []}],
    ("cells", 2, "cell_type"): [5, None, "weird", ["code"]],
    ("cells", 2, "outputs"): [3, None, [3], [{"output_type": 5}], [{"output_type": "stream", "text": 5}]],
    ("cells", 2, "execution_count"): ["1", -1, 1.5, []],
    ("cells", 2, "id"): [5, "", "a" * 100, "bad id!", None],
    ("cells", 1, "id"): ["cell-2"],  # duplicated id
}


@st.composite
def field_shapes(draw) -> object:
    data = copy.deepcopy(VALID)
    for path in draw(st.lists(st.sampled_from(sorted(FIELD_SHAPES, key=str)), min_size=1, max_size=3, unique=True)):
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.integers(0, 5)) == 0:
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(FIELD_SHAPES[path])))
        except (KeyError, IndexError, TypeError):
            pass  # an earlier shape already replaced the parent
    return data


def dump(value, ensure_ascii: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")


json_docs = st.builds(dump, st.one_of(mutated_notebooks(), field_shapes(), json_values), st.booleans())


@st.composite
def damaged_bytes(draw) -> bytes:
    """A valid notebook's bytes, truncated, with bytes flipped, inserted or deleted."""
    raw = bytearray(draw(st.one_of(st.just(VALID_TEXT.encode()), json_docs)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(raw)))
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
        if op == "truncate":
            del raw[at:]
        elif op == "flip" and at < len(raw):
            raw[at] = draw(st.integers(0, 255))
        elif op == "insert":
            raw[at:at] = draw(st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\\ud800", b"\\u0000",
                                               b"[", b"{", b'"', b",", b"9" * 5000, b"NaN", b"\r\n"]))
        elif op == "delete":
            del raw[at:at + draw(st.integers(1, 20))]
    return bytes(raw)


@st.composite
def deep_json(draw) -> bytes:
    """Nesting from harmless to past the parser's recursion limit, alone or inside a notebook's metadata."""
    depth = draw(st.one_of(st.integers(1, 120), st.integers(900, 1100), st.integers(5000, 50000)))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    nested = opener * depth + "0" + closer * depth
    if draw(st.booleans()):
        return nested.encode()
    template = VALID_TEXT.replace('"metadata": {\n  "kernelspec"', '"metadata": {\n  "deep": @@, "kernelspec"', 1)
    assert "@@" in template
    return template.replace("@@", nested).encode()


@st.composite
def odd_encodings(draw) -> bytes:
    text = draw(st.sampled_from([VALID_TEXT, "{}", "[]", '{"nbformat": 4}']))
    how = draw(st.sampled_from(["bom", "utf-16", "utf-32", "latin-1", "nul", "huge-int", "surrogate-pair", "lone"]))
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    if how in ("utf-16", "utf-32"):
        return text.encode(how)
    if how == "latin-1":
        return text.replace("Tiny", "Tïny").encode("latin-1")
    if how == "nul":
        return text.replace("import torch", "import torch\\u0000").encode()
    if how == "huge-int":
        return text.replace('"nbformat": 4', '"nbformat": 4' + "0" * draw(st.integers(4000, 6000)), 1).encode()
    if how == "surrogate-pair":
        return text.replace("import torch", "import torch  # \\ud83d\\ude00").encode()
    return text.replace("import torch", "import torch  # \\udc80").encode()


any_bytes = st.one_of(st.binary(max_size=300), json_docs, damaged_bytes(), deep_json(), odd_encodings())


def kind_of(err: NotebookError, path: Path) -> str:
    """The error's message without the path and the specifics, for hypothesis's statistics."""
    message = str(err)[len(str(path)):].split(": ", 1)[-1]
    return re.sub(r"[:(0-9'\"].*", "", message).strip()


def check_reader(path: Path) -> None:
    """Read the file every way a notebook is read: only NotebookError (naming the file) may come out."""
    try:
        nb = read_notebook(path)
    except NotebookError as err:
        assert str(err).startswith(str(path)), str(err)
        event(f"read: {kind_of(err, path)}")
        nb = None
    else:
        event("read: ok")
    if nb is not None:
        nbformat.validate(nb)
        try:
            graded_cells(nb, path)
        except NotebookError as err:
            assert str(err).startswith(str(path)), str(err)
        public_checks(nb)
        setup_code(nb)
    try:
        code = read_submission(path, path.parent / "release.ipynb")
    except NotebookError as err:
        assert str(err).startswith(str(path)), str(err)
    else:
        assert code.cells and all(isinstance(i, int) and isinstance(s, str) for i, s in code.cells)
        assert all(isinstance(p, str) for p in code.problems)


@settings(FUZZ, max_examples=400 * SCALE)
@given(raw=any_bytes)
def test_reading_arbitrary_bytes_raises_only_notebook_error(workdir, raw):
    path = workdir / "submission.ipynb"
    path.write_bytes(raw)
    check_reader(path)


@settings(FUZZ, max_examples=150 * SCALE)
@given(doc=st.one_of(field_shapes(), mutated_notebooks()))
def test_wrongly_typed_notebook_fields_raise_only_notebook_error(workdir, doc):
    path = workdir / "typed.ipynb"
    path.write_bytes(dump(doc, ensure_ascii=False))
    check_reader(path)


@pytest.mark.parametrize("raw, words", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"nbformat": 4' + b"0" * 5000 + b"}", "not valid JSON"),
    (b'{"nbformat": 4.0, "nbformat_minor": 5, "metadata": {}, "cells": []}', "version 4 is required"),
    (b'{"nbformat": 4, "nbformat_minor": "5", "metadata": {}, "cells": []}', "nbformat_minor '5'"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 3}', "schema"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": 5}]}', "schema"),
    (b'{"nbformat": 4, "nbformat_minor": 99, "metadata": {}, "cells": [{"cell_type": "x", "metadata": {}}]}', "schema"),
    (b'{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{"cell_type": "raw", "metadata": {}, "source": '
     + b'"\\ud800"}]}', "surrogate"),
])
def test_crashes_found_by_fuzzing_are_notebook_errors(tmp_path, raw, words):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(raw)
    with pytest.raises(NotebookError, match=words) as err:
        read_notebook(path)
    assert str(err.value).startswith(str(path))


def test_cells_without_ids_in_a_4_5_notebook_are_still_read(tmp_path):
    """nbformat adds missing ids (with a warning): the stricter schema check must not refuse them."""
    data = copy.deepcopy(VALID)
    for cell in data["cells"]:
        del cell["id"]
    path = tmp_path / "noid.ipynb"
    path.write_text(json.dumps(data))
    with pytest.warns(Warning):
        assert len(read_notebook(path).cells) == 5


# ---------------------------------------------------------------------------- notebooks in

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: not keyword.iskeyword(s))
secrets = st.integers(0, 10**6).map(lambda n: f"SECRET_{n}")
indents = st.sampled_from(["", "    ", "\t", "  "])
marker_lines = st.builds(lambda i, m, tail: i + m + tail, indents, st.sampled_from([BEGIN, END]),
                         st.sampled_from(["", "", " ", "\r", "\t"]))
near_miss_markers = st.sampled_from([
    "## BEGIN SOLUTION", "###BEGIN SOLUTION", "### BEGIN  SOLUTION", "### begin solution", "x = 1  ### END SOLUTION",
    "### END SOLUTON", "#### END SOLUTION", "BEGIN SOLUTION", "### BEGIN\u00a0SOLUTION", "### BEGIN SOLUTION!",
    "### BEGIN SOLUTION\u2028leak", "'### END SOLUTION'",
])
code_lines = st.sampled_from(["def f(x):", "    return x", "pass", "import math", "x = 1", "    ", "", '"""doc"""',
                              "def f(", "    y = x  # hint", "%matplotlib inline", "\x00", "\U0001F600", "if x:",
                              "YOUR ANSWER HERE", "# YOUR CODE HERE", "raise NotImplementedError()",
                              "x = " + "-" * 100_000 + "1", "x = " + "(" * 300 + ")" * 300])  # MemoryError, SyntaxError
any_line = st.one_of(marker_lines, near_miss_markers, code_lines, secrets.map(lambda s: f"    s = '{s}'"),
                     st.text(st.characters(blacklist_categories=["Cs"]), max_size=12))


def nbgrader(**meta) -> dict:
    return {"schema_version": 3, "grade": False, "solution": False, "locked": True, **meta}


@st.composite
def question_cell(draw, name: str) -> nbformat.NotebookNode:
    """A well-formed question: one def named after the grade_id, the body's secret between markers."""
    secret = draw(secrets)
    before = draw(st.sampled_from(["", '    """Doc."""\n', "    y = 1\n", '    """A\n\n    multi-line doc."""\n']))
    body = "\n".join(f"    v{i} = '{secret}_{i}'" for i in range(draw(st.integers(1, 3))))
    after = draw(st.sampled_from(["", "\n    return None"]))
    source = f"def {name}(x):\n{before}    {BEGIN}\n{body}\n    return x\n    {END}{after}"
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = nbgrader(grade_id=name, solution=True, locked=False)
    return cell


@st.composite
def wellformed_notebooks(draw) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    questions = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    cells = [nbformat.v4.new_markdown_cell("# A problem set")]
    cells[0].metadata["nbgrader"] = nbgrader(grade_id="intro")
    if draw(st.booleans()):
        cells.append(nbformat.v4.new_code_cell("import math"))
        cells[-1].metadata["nbgrader"] = nbgrader(grade_id="setup")
    for name in questions:
        cells.append(draw(question_cell(name)))
        if draw(st.booleans()):
            points = draw(st.one_of(st.integers(0, 10), st.floats(0, 10)))
            cells.append(nbformat.v4.new_code_cell(f"assert {name}(1) == 1"))
            cells[-1].metadata["nbgrader"] = nbgrader(grade_id=f"check_{name}", grade=True, points=points)
        if draw(st.booleans()):  # a written answer: a markdown solution cell, with or without a region
            secret = draw(secrets)
            text = draw(st.sampled_from([f"{BEGIN}\nThe answer is {secret}.\n{END}", f"The answer is {secret}."]))
            cells.append(nbformat.v4.new_markdown_cell(f"Explain {name}:\n{text}"))
            cells[-1].metadata["nbgrader"] = nbgrader(grade_id=f"explain_{name}", solution=True, grade=True, points=1,
                                                      locked=False)
    nb.cells = cells
    return nb


flags = st.one_of(st.booleans(), st.booleans(), st.sampled_from([0, 1, "false", None, [], "yes"]))


@st.composite
def random_meta(draw, taken: list[str]):
    """nbgrader metadata: usually well typed, sometimes missing, duplicated or wrongly typed."""
    shape = draw(st.sampled_from(["dict"] * 8 + ["absent", "list", "string", "int", "null"]))
    if shape != "dict":
        return {"absent": None, "list": [1], "string": "solution", "int": 3, "null": "null"}[shape]
    meta = {"schema_version": 3}
    for flag in ("solution", "grade", "locked"):
        if draw(st.integers(0, 5)):
            meta[flag] = draw(flags)
    grade_id = draw(st.one_of(names, names, st.sampled_from(taken or ["x"]), st.sampled_from([5, "", None, [], {"a": 1}]),
                              st.just("MISSING")))
    if grade_id != "MISSING":
        meta["grade_id"] = grade_id
    points = draw(st.one_of(st.integers(0, 5), st.sampled_from([-1, 1.5, float("nan"), float("inf"), "2", None, True,
                                                                [], "MISSING"])))
    if points != "MISSING":
        meta["points"] = points
    return meta


@st.composite
def random_cell(draw, taken: list[str]) -> nbformat.NotebookNode:
    kind = draw(st.sampled_from(["code", "code", "markdown", "raw"]))
    lines = draw(st.lists(any_line, max_size=8))
    sep = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    source = sep.join(lines)
    cell = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}[kind](source)
    meta = draw(random_meta(taken))
    if meta is not None:
        cell.metadata["nbgrader"] = None if meta == "null" else meta
    return cell


@st.composite
def random_notebooks(draw) -> nbformat.NotebookNode:
    """Well-formed notebooks with some cells broken or added, and random kernel metadata."""
    nb = draw(wellformed_notebooks())
    taken = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells]
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(nb.cells)))
        if at < len(nb.cells) and draw(st.booleans()):
            original = nb.cells[at]
            if draw(st.booleans()):  # keep the source, change the metadata
                meta = draw(random_meta(taken))
                if meta is None:
                    original.metadata.pop("nbgrader", None)
                else:
                    original.metadata["nbgrader"] = None if meta == "null" else meta
            else:  # keep the metadata, insert a random line into the source
                lines = original.source.split("\n")
                lines.insert(draw(st.integers(0, len(lines))), draw(any_line))
                original.source = "\n".join(lines)
        else:
            nb.cells.insert(at, draw(random_cell(taken)))
    language = draw(st.sampled_from(["python"] * 6 + ["R", "python3", None, "MISSING", "NOKERNEL"]))
    if language == "NOKERNEL":
        del nb.metadata["kernelspec"]
    elif language == "MISSING":
        del nb.metadata["kernelspec"]["language"]
    else:
        nb.metadata["kernelspec"]["language"] = language
    if draw(st.booleans()):
        nb.metadata["celltoolbar"] = "Create Assignment"
    if draw(st.integers(0, 3)) == 0:
        nb.nbformat_minor = 4  # no cell ids
    for cell in nb.cells:  # outputs to clear, some with a secret in them
        if cell.cell_type == "code" and draw(st.integers(0, 4)) == 0:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=draw(secrets)),
                            nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1)]
            cell.execution_count = 1
    return nb


def write_course(base: Path, nb, *, as_lists: bool = False) -> Course:
    for i, cell in enumerate(nb.cells):
        if nb.nbformat_minor >= 5:
            cell["id"] = f"cell-{i}"  # deterministic ids (new_*_cell draws random ones)
        else:
            cell.pop("id", None)
    root = Path(tempfile.mkdtemp(dir=base))
    path = root / "source" / "lesson_01" / "problem_set.ipynb"
    path.parent.mkdir(parents=True)
    # sources as one string, or as nbformat writes them: a list of lines
    path.write_text(nbformat.writes(nb) if as_lists else json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")
    return Course(root)


def solution_regions(nb) -> tuple[set[str], set[str]]:
    """(lines between exact BEGIN/END markers, every other line) of the source notebook, stripped."""
    inside, outside = set(), set()
    for cell in nb.cells:
        region = False
        for line in cell.source.split("\n"):
            stripped = line.strip()
            if stripped == BEGIN:
                region = True
            elif stripped == END:
                region = False
            (inside if region else outside).add(stripped)
    return inside, outside


def check_release(course: Course, source) -> bool:
    """Release the course; False on a NotebookError; on success, check the outputs. Anything else raises."""
    source_path = course.source_notebook("lesson_01")
    try:
        release(course)
    except NotebookError as err:
        assert str(err).startswith(str(source_path)), str(err)
        event(f"release: {kind_of(err, source_path)}")
        return False
    event("release: ok")
    released_path = course.release_notebook("lesson_01")
    released = nbformat.read(released_path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(released)
    inside, outside = solution_regions(source)
    stubs = {line.strip() for line in CODE_STUB.split("\n")} | {"YOUR ANSWER HERE"}
    secret_lines = inside - outside - stubs - {"", BEGIN, END}
    for index, cell in enumerate(released.cells):
        leaked = {line.strip() for line in cell.source.split("\n")} & secret_lines
        assert not leaked, f"release cell {index} leaks {sorted(leaked)}"
    assert all(not cell.get("outputs") for cell in released.cells)
    text = released_path.read_text(encoding="utf-8")
    public = "\n".join(outside)
    for token in set(re.findall(r"SECRET_\d+", "\n".join(inside))):
        if token not in public:
            assert token not in text, f"the release notebook leaks {token}"
    ast.parse(course.solution_module("lesson_01").read_text(encoding="utf-8"))
    return True


@settings(FUZZ, max_examples=60 * SCALE)
@given(nb=wellformed_notebooks())
def test_wellformed_notebooks_release_without_leaks(workdir, nb):
    source = copy.deepcopy(nb)
    course = write_course(workdir, nb)
    assert check_release(course, source), "a well-formed notebook must release"
    module = course.solution_module("lesson_01").read_text(encoding="utf-8")
    questions = [c for c in source.cells if c.cell_type == "code" and c.metadata["nbgrader"]["solution"]]
    for cell in questions:  # the reference module has every question's secret
        for token in re.findall(r"SECRET_\d+_\d+", cell.source):
            assert token in module


@settings(FUZZ, max_examples=150 * SCALE)
@given(nb=random_notebooks(), as_lists=st.booleans())
def test_random_notebooks_release_or_raise_notebook_error(workdir, nb, as_lists):
    source = copy.deepcopy(nb)
    check_release(write_course(workdir, nb, as_lists=as_lists), source)


def nbgrader_of(nb, index: int) -> dict:
    return nb.cells[index].metadata["nbgrader"]


@pytest.mark.parametrize("damage, words", [
    (lambda nb: nb.cells[1].metadata.update(nbgrader=[1]), "cell 1, line 1: nbgrader metadata must be an object"),
    (lambda nb: nbgrader_of(nb, 3).pop("points"), "cell 3, line 1: grade cell 'check_add_one' needs nbgrader points"),
    (lambda nb: nbgrader_of(nb, 3).update(points="two"), "needs nbgrader points"),
    (lambda nb: nbgrader_of(nb, 1).pop("grade_id"), "cell 1, line 1: locked cell has no nbgrader grade_id"),
    (lambda nb: nbgrader_of(nb, 2).update(grade_id=["add_one"]), "cell 2, line 1: nbgrader grade_id must be a string"),
    (lambda nb: nbgrader_of(nb, 2).update(solution="false"), "cell 2, line 1: nbgrader 'solution' must be true or false"),
    (lambda nb: nb.metadata["kernelspec"].update(language=["python"]), "kernelspec language is \\['python'\\]"),
    (lambda nb: nb.metadata["kernelspec"].update(language="R"), "rlgrade releases Python notebooks only"),
    (lambda nb: setattr(nb.cells[1], "source", "import torch\nif x:"), "cell 1, line 2: setup cell is not valid Python"),
    (lambda nb: setattr(nb.cells[1], "source", "x = " + "-" * 100_000 + "1"), "cell 1: setup cell cannot be parsed"),
    (lambda nb: setattr(nb.cells[2], "source", "x = " + "-" * 100_000 + "1"), "cell 2: cannot be parsed as Python"),
])
def test_release_crashes_found_by_fuzzing_are_notebook_errors(tmp_path, damage, words):
    nb = tiny_notebook()
    damage(nb)
    course = write_course(tmp_path, nb)
    with pytest.raises(NotebookError, match=words) as err:
        release(course)
    assert str(err.value).startswith(str(course.source_notebook("lesson_01")))
