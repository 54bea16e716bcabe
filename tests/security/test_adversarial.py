"""The adversarial corpus: submissions that try to cheat, crash, hang or spy on the grader.

Every file in ``attacks/`` is one kind of attack and one student. The whole corpus is
graded in ONE batch (with two honest students), into a gradebook that already holds
an earlier row, against a course whose reference solutions, hidden tests and the
other students' submissions carry a random canary. Each attack must then:

- have exactly one row, scoring exactly what it legitimately earns (``# earns:`` in
  its header; 0 unless it also answers some question honestly);
- never carry the canary in its row (messages, output, warnings, error);
- where the grader owes a clear message (timeout, crash, memory), give it
  (``# message:``, alternatives separated by ``|``; ``# status:`` when not graded).

And the batch as a whole must leave the honest rows exactly as a clean batch grades
them, the earlier row, the course and the submissions untouched, and no connection
reach the grading host.

Attack files are data: placeholders (``__COURSE__``, ``__GRADEBOOK__``, ...) are filled
in with this run's paths, so the attacks know everything a well-informed student could.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import pytest

from conftest import VARIANTS, needs_sandbox, tiny_notebook, write
from rlgrade.course import Course
from rlgrade.grade import GradeOptions, SubmissionResult, grade
from rlgrade.gradebook import Gradebook
from rlgrade.sandbox import Limits

pytestmark = [needs_sandbox, pytest.mark.slow, pytest.mark.sandbox]

ATTACKS = Path(__file__).parent / "attacks"
ASSIGNMENT = "lesson_01"
MAX_SCORE = 6.0

# Small limits so that the corpus stays cheap; big enough for an honest submission on a busy machine.
LIMITS = Limits(memory_bytes=3 * 1024**3, cpu_seconds=20, file_bytes=16 * 1024**2, disk_bytes=64 * 1024**2,
                call_seconds=3, startup_seconds=30)
OPTIONS = GradeOptions(limits=LIMITS, submission_seconds=90)

# The tiny course's questions, with hidden tests whose inputs are all drawn by hypothesis: a
# hidden test with a fixed input (zeros(3), arange(4.0)) can be passed by a lookup table.
# Ten examples each (not the profile's 25) keep the attacks that are slow per call cheap.
TEST_ADD_ONE = '''
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("add_one")


@pytest.mark.points(2)
@settings(max_examples=10)
@given(x=st.integers(1, 4).flatmap(lambda n: tensors((n,), torch.float64)))
def test_matches_reference(student, x):
    """add_one adds one to every element."""
    assert_close(student.add_one(x), ref.add_one(x), inputs={"x": x})


@settings(max_examples=10)
@given(x=st.integers(1, 4).flatmap(lambda n: tensors((n,), torch.float32)))
def test_keeps_float32(student, x):
    """The result keeps float32."""
    assert_close(student.add_one(x), ref.add_one(x), inputs={"x": x})
'''

TEST_SCALE = '''
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import tensors

ref = reference_for(__file__)


@pytest.mark.points(3)
@settings(max_examples=10)
@given(x=st.integers(1, 4).flatmap(lambda n: tensors((n,), torch.float64)))
def test_default_factor(student, x):
    """scale doubles by default."""
    assert_close(student.scale(x), ref.scale(x), inputs={"x": x})
'''

HONEST_FULL = '''
# {canary}
import torch

print("honest output {canary}")


def add_one(x):
    return x + 1


def scale(x, k=2.0):
    return k * x
'''

HONEST_PARTIAL = '''
def add_one(x):
    return x + 2


def scale(x, k=2.0):
    return x * k
'''


@dataclass(frozen=True)
class Attack:
    kind: str
    description: str
    earns: float
    status: str
    message: str | None
    source: str


def read_attack(path: Path) -> Attack:
    source = path.read_text(encoding="utf-8")
    header = dict(re.findall(r"^# (earns|status|message): (.+)$", source, re.M))
    description = " ".join((ast.get_docstring(ast.parse(source)) or "").split("\n\n")[0].split())
    return Attack(path.stem, description, float(header["earns"]), header.get("status", "graded"),
                  header.get("message"), source)


CORPUS = {path.stem: read_attack(path) for path in sorted(ATTACKS.glob("*.py"))}


# ------------------------------------------------------------------ the batch

class Listener:
    """A TCP port and an abstract unix socket on the grading host that hand out the canary to whoever connects."""

    def __init__(self, canary: str):
        self.canary = canary.encode()
        self.connections = 0
        self.unix_name = f"rlgrade-canary-{secrets.token_hex(8)}"
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind("\0" + self.unix_name)
        self.unix.listen()
        self.port = self.tcp.getsockname()[1]
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.serve, args=(s,), daemon=True) for s in (self.tcp, self.unix)]
        for t in self.threads:
            t.start()

    def serve(self, server: socket.socket) -> None:
        server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with conn:
                conn.sendall(self.canary)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()
        self.tcp.close()
        self.unix.close()


def build_course(root: Path, canary: str) -> Course:
    from rlgrade.release import release  # noqa: PLC0415 - slow import (nbgrader)

    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(tiny_notebook(), root / "source" / ASSIGNMENT / "problem_set.ipynb")
    for init in ("autograder/__init__.py", f"autograder/{ASSIGNMENT}/__init__.py",
                 f"autograder/{ASSIGNMENT}/variants/__init__.py"):
        write(root / init, "")
    write(root / f"autograder/{ASSIGNMENT}/test_add_one.py", TEST_ADD_ONE + f"\n# canary: {canary}\n")
    write(root / f"autograder/{ASSIGNMENT}/test_scale.py", TEST_SCALE)
    write(root / f"autograder/{ASSIGNMENT}/variants/add_one.py", VARIANTS)
    course = Course(root)
    release(course)
    solutions = course.solution_module(ASSIGNMENT)
    solutions.write_text(solutions.read_text() + f"\n# canary: {canary}\n")
    return course


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file under ``root`` by content (bytecode caches aside: grading imports the hidden tests)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def previous_result(canary: str) -> SubmissionResult:
    return SubmissionResult(student="zz_previous", assignment=ASSIGNMENT, path="/elsewhere/zz_previous.py",
                            content_hash="0" * 64, status="graded", error=None, score=4.0, max_score=MAX_SCORE,
                            questions={}, output=f"printed {canary}")


@dataclass
class Batch:
    canary: str
    course: Course
    submissions: Path
    gradebook: Gradebook
    rows: dict[str, SubmissionResult]
    before: dict[str, dict[str, str]]
    after: dict[str, dict[str, str]]
    listener: Listener
    seconds: float


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    tmp = tmp_path_factory.mktemp("adversarial")
    canary = f"CANARY-{secrets.token_hex(16)}"
    course = build_course(tmp / "course", canary)
    subs = tmp / "submissions"
    subs.mkdir()
    gradebook_path = tmp / "grades" / "gradebook.db"
    gradebook_path.parent.mkdir()
    url = f"sqlite:///{gradebook_path}"
    Gradebook(url).record(previous_result(canary))
    write(subs / "honest_full.py", HONEST_FULL.format(canary=canary))
    write(subs / "honest_partial.py", HONEST_PARTIAL)
    listener = Listener(canary)
    values = {"__COURSE__": str(course.root), "__GRADEBOOK__": str(gradebook_path),
              "__OTHER__": str(subs / "honest_full.py"), "__SUBMISSIONS__": str(subs), "__GRADER_CWD__": os.getcwd(),
              "__GRADER_PID__": str(os.getpid()), "__TCP_PORT__": str(listener.port),
              "__UNIX_NAME__": listener.unix_name}
    for attack in CORPUS.values():
        source = attack.source
        for placeholder, value in values.items():
            source = source.replace(placeholder, value)
        assert not re.search(r"__[A-Z_]+__", source), f"{attack.kind}: unfilled placeholder"
        (subs / f"{attack.kind}.py").write_text(source, encoding="utf-8")
    before = {"course": tree_hashes(course.root), "submissions": tree_hashes(subs)}
    os.environ["RLGRADE_CANARY"] = canary  # in the grader's environment: /proc/<pid>/environ must not reach it
    started = time.monotonic()
    try:
        report = grade(course, ASSIGNMENT, [subs], gradebook_url=url, workers=2, options=OPTIONS)
    finally:
        os.environ.pop("RLGRADE_CANARY", None)
        listener.close()
    seconds = time.monotonic() - started
    after = {"course": tree_hashes(course.root), "submissions": tree_hashes(subs)}
    print(f"\nadversarial batch: {len(report.results)} submissions graded in {seconds:.0f} s")
    gradebook = Gradebook(url)
    rows = {r.student: r for r in gradebook.current_results(ASSIGNMENT)}
    return Batch(canary, course, subs, gradebook, rows, before, after, listener, seconds)


@pytest.fixture(scope="module")
def clean_batch(batch, tmp_path_factory) -> dict[str, SubmissionResult]:
    """The two honest students graded alone, against the same course."""
    tmp = tmp_path_factory.mktemp("clean")
    subs = tmp / "submissions"
    subs.mkdir()
    for name in ("honest_full", "honest_partial"):
        shutil.copy(batch.submissions / f"{name}.py", subs / f"{name}.py")
    url = f"sqlite:///{tmp}/gradebook.db"
    grade(batch.course, ASSIGNMENT, [subs], gradebook_url=url, workers=2, options=OPTIONS)
    return {r.student: r for r in Gradebook(url).current_results(ASSIGNMENT)}


# ------------------------------------------------------------------ per attack

def row_text(row: SubmissionResult) -> str:
    return json.dumps(asdict(row), default=str, ensure_ascii=False)


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_attack_gains_nothing(batch, kind):
    attack = CORPUS[kind]
    assert kind in batch.rows, f"{kind} has no row"
    assert len(batch.gradebook.history(kind, ASSIGNMENT)) == 1
    row = batch.rows[kind]
    text = row_text(row)
    assert batch.canary not in text, f"{kind} leaked the canary"
    assert (row.status, row.max_score) == (attack.status, MAX_SCORE), (row.status, row.error)
    assert row.score == attack.earns, f"{kind} scored {row.score}, earns {attack.earns}: {text[:3000]}"
    if attack.message:
        assert any(m.lower() in text.lower() for m in attack.message.split("|")), text[:3000]
    assert "took longer than" not in (row.error or ""), "a grader process hung"
    assert "internal grader error" not in (row.error or ""), row.error


def test_the_corpus_is_large_and_documented():
    assert len(CORPUS) >= 25
    for attack in CORPUS.values():
        assert attack.description and 0 <= attack.earns <= MAX_SCORE, attack.kind


# ------------------------------------------------------------------ everyone else

def test_honest_rows_equal_a_clean_batch(batch, clean_batch):
    assert batch.rows["honest_full"].score == MAX_SCORE
    assert batch.rows["honest_partial"].score == 3.0
    for name, clean in clean_batch.items():
        row = batch.rows[name]
        assert row.to_json() == clean.to_json()
        assert row.output == clean.output


def test_every_submission_has_exactly_one_row_and_the_earlier_row_is_untouched(batch):
    expected = set(CORPUS) | {"honest_full", "honest_partial", "zz_previous"}
    assert set(batch.rows) == expected
    history = batch.gradebook.history("zz_previous", ASSIGNMENT)
    assert len(history) == 1 and history[0] == previous_result(batch.canary)


def test_course_and_submissions_are_unchanged(batch):
    assert batch.after["course"] == batch.before["course"]
    assert batch.after["submissions"] == batch.before["submissions"]


def test_nothing_reached_the_grading_host(batch):
    assert batch.listener.connections == 0
