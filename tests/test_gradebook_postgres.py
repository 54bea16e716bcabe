"""The gradebook on PostgreSQL (``--gradebook postgresql+psycopg://...``), against a real server.

The module starts a throwaway server from Debian's ``postgresql`` package (``scripts/setup.sh``
installs it): ``initdb`` into a temp dir, listening only on a unix socket there, run as an
unprivileged user when the tests run as root (PostgreSQL refuses root). Each test gets a
fresh database.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DataError

from conftest import needs_sandbox, submission
from rlgrade import gradebook as gradebook_module
from rlgrade.grade import GradeOptions, QuestionResult, SubmissionResult, grade
from rlgrade.gradebook import Gradebook
from rlgrade.sandbox import Limits
from rlgrade.testing.plugin import TestOutcome


def postgres_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


BINDIR = postgres_bindir()
# Skipped only on a developer machine without PostgreSQL; in CI (CI=true) they run, and fail loudly.
pytestmark = pytest.mark.skipif(BINDIR is None and not os.environ.get("CI"),
                                reason="PostgreSQL is not installed (scripts/setup.sh installs it)")

CORRECT = "import torch\ndef add_one(x):\n    return x + 1\ndef scale(x, k=2.0):\n    return k * x\n"


# ---------------------------------------------------------------- the server

def server_user() -> str | None:
    """Who runs the server: PostgreSQL refuses to run as root, so root hands it to ``postgres``
    (made by Debian's package) or ``nobody``; anyone else runs it themselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    raise RuntimeError("running as root, and no postgres or nobody user to run PostgreSQL as")


def as_user(user: str | None, command: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *command] if user else command


def pg(user: str | None, program: str, *args: str) -> subprocess.CompletedProcess:
    """Run one of PostgreSQL's programs as the server's user; raise with its output if it fails."""
    return subprocess.run(as_user(user, [str(BINDIR / program), *args]), check=True, capture_output=True, text=True)


def start_server(home: Path, user: str | None) -> str:
    """initdb + start a server whose only socket is in ``home``; the URL of its ``postgres`` database."""
    data = home / "data"
    try:
        pg(user, "initdb", "-D", str(data), "-U", "rlgrade", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        options = f"-k {home} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        pg(user, "pg_ctl", "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "-t", "60", "start")
    except subprocess.CalledProcessError as exc:
        log = (home / "log").read_text() if (home / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from exc
    return f"postgresql+psycopg://rlgrade@/postgres?host={home}"


@pytest.fixture(scope="module")
def server():
    """A running server; yields the URL of its ``postgres`` database (over the unix socket)."""
    assert BINDIR is not None, "PostgreSQL is not installed: run scripts/setup.sh (apt-get install postgresql)"
    user = server_user()
    home = Path(tempfile.mkdtemp(prefix="rlgrade-pg-"))  # not under pytest's root-only tmp: the server user needs it
    if user:
        shutil.chown(home, user)
    try:
        yield start_server(home, user)
    finally:
        subprocess.run(as_user(user, [str(BINDIR / "pg_ctl"), "-D", str(home / "data"), "-m", "immediate", "stop"]),
                       check=False, capture_output=True)  # already down if it never started
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def url(server) -> str:
    """A fresh, empty database for one test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.replace("/postgres?", f"/{name}?")


# ---------------------------------------------------------------- records

def result(student, score_a, *, content="h1", message=None, detail=None):
    tests = (TestOutcome("test_a", "qa", "passed" if score_a else "failed", score_a, 2.0, message, detail=detail),)
    questions = {"qa": QuestionResult("qa", score_a, 2.0, tests),
                 "qb": QuestionResult("qb", 1.0, 1.0, (TestOutcome("test_b", "qb", "passed", 1.0, 1.0, None),))}
    return SubmissionResult(student, "lesson_01", f"{student}.py", content, "graded", None, score_a + 1.0, 3.0,
                            questions, grader_hash="k1")


def test_results_round_trip_and_a_regrade_keeps_the_history(url):
    gradebook = Gradebook(url)
    gradebook.record(result("bob", 0.0, content="old", message="wrong", detail={"expected": [1.0], "got": [2.0]}))
    gradebook.record(result("alice", 2.0))
    gradebook.record(result("bob", 2.0, content="new"))
    reopened = Gradebook(url.replace("postgresql+psycopg:", "postgresql:"))  # the driver rlgrade installs
    assert [r.to_json() for r in reopened.current_results("lesson_01")] == \
        [result("alice", 2.0).to_json(), result("bob", 2.0, content="new").to_json()]
    assert [(h.content_hash, h.score) for h in reopened.history("bob", "lesson_01")] == [("old", 1.0), ("new", 3.0)]
    assert reopened.history("bob", "lesson_01")[0].questions["qa"].tests[0].detail == {"expected": [1.0], "got": [2.0]}
    assert reopened.recorded("lesson_01") == {"alice": ("h1", "k1", "graded"), "bob": ("new", "k1", "graded")}
    assert reopened.assignments() == ["lesson_01"]


def test_a_gradebook_from_an_older_rlgrade_gets_its_missing_columns(url):
    Gradebook(url).record(result("alice", 2.0))
    engine = create_engine(url)
    with engine.begin() as connection:  # what an older rlgrade wrote: no grader hash, diagnosis, detail or curves
        connection.execute(text("ALTER TABLE gradings DROP COLUMN grader_hash"))
        connection.execute(text("ALTER TABLE gradings DROP COLUMN curves"))
        connection.execute(text("ALTER TABLE test_results DROP COLUMN diagnosis"))
        connection.execute(text("ALTER TABLE test_results DROP COLUMN detail"))
    gradebook = Gradebook(url)
    columns = {table: {c["name"] for c in inspect(engine).get_columns(table)} for table in ("gradings", "test_results")}
    assert {"grader_hash", "curves"} <= columns["gradings"] and {"diagnosis", "detail"} <= columns["test_results"]
    assert gradebook.recorded("lesson_01") == {"alice": ("h1", "", "graded")}  # the old row: no grader hash
    assert gradebook.current_results("lesson_01")[0].curves == ()
    curves = ({"task": "dpo", "model": "tiny",
               "log": [{"step": 0.0, "loss": 0.69, "kl": None}, {"step": 1.0, "loss": 0.5, "kl": 0.01}]},)
    gradebook.record(replace(result("alice", 0.0, content="h2", message="wrong", detail={"got": [0.0]}), curves=curves))
    [current] = gradebook.current_results("lesson_01")
    assert (current.content_hash, current.grader_hash, current.questions["qa"].tests[0].detail) == ("h2", "k1", {"got": [0.0]})
    assert current.curves == curves
    engine.dispose()


def test_postgresql_refuses_nul_and_the_gradebook_stores_it_replaced(url):
    gradebook = Gradebook(url)
    engine = create_engine(url)
    with pytest.raises(DataError, match="NUL"), engine.connect() as connection:  # why storable() exists
        connection.execute(text("SELECT CAST(:out AS text)"), {"out": "a\x00b"})
    engine.dispose()
    hostile = replace(result("mallory", 1.0, message="got \x00\ud800", detail={"got": "\x00\udfff"}),
                      error="bad\x00\ud800", output="out\x00", warnings=("\udfff",))
    gradebook.record(hostile)
    [stored] = gradebook.current_results("lesson_01")
    assert (stored.error, stored.output, stored.warnings) == ("bad\ufffd?", "out\ufffd", ("?",))
    test = stored.questions["qa"].tests[0]
    assert test.message == "got \ufffd?"
    assert test.detail == {"got": "\x00\udfff"}  # JSON travels escaped: the json type keeps it as it was


def record_many(url: str, student_names: list[str], barrier, old: bool) -> None:
    """One grader process: open the gradebook when the other does, record a row per name."""
    if old:
        inspect_in_step(barrier)
    else:
        barrier.wait()
    gradebook = Gradebook(url)
    for i, student in enumerate(student_names):
        gradebook.record(result(student, float(i % 3), content=f"{os.getpid()}-{i}"))


def inspect_in_step(barrier) -> None:
    """Make this process's first look at the tables wait for the other's: both then see the old
    columns and both add them, the race two graders starting on an old gradebook can run."""
    real = gradebook_module.inspect
    looked = []

    def inspect_then_wait(engine):
        inspector = real(engine)
        if looked:
            return inspector
        looked.append(True)
        columns = {table: inspector.get_columns(table) for table in inspector.get_table_names()}
        barrier.wait()
        return SimpleNamespace(get_columns=columns.__getitem__)

    gradebook_module.inspect = inspect_then_wait


def make_old(url: str) -> None:
    """A gradebook as an older rlgrade left it: tables, one row, columns missing."""
    Gradebook(url).record(result("s00", 1.0, content="old"))
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE gradings DROP COLUMN grader_hash"))
        connection.execute(text("ALTER TABLE test_results DROP COLUMN detail"))
    engine.dispose()


@pytest.mark.parametrize("gradebook_is", ["new", "old"])
def test_two_graders_opening_and_recording_into_one_gradebook_at_once(url, gradebook_is):
    """Both create the tables (new) or add the missing columns (old) at the same moment, then
    record the same students in opposite orders: every write lands, none is lost."""
    if gradebook_is == "old":
        make_old(url)  # and both graders add its missing columns at once
    names = [f"s{i:02d}" for i in range(12)]
    context = multiprocessing.get_context("fork")  # two graders at once, without importing torch twice more
    barrier = context.Barrier(2)
    old = gradebook_is == "old"
    graders = [context.Process(target=record_many, args=(url, names, barrier, old)),
               context.Process(target=record_many, args=(url, names[::-1], barrier, old))]
    for grader in graders:
        grader.start()
    for grader in graders:
        grader.join(120)
    assert [g.exitcode for g in graders] == [0, 0]
    gradebook = Gradebook(url)
    assert [r.student for r in gradebook.current_results("lesson_01")] == names
    expected = {name: 2 for name in names} | ({"s00": 3} if gradebook_is == "old" else {})
    assert {name: len(gradebook.history(name, "lesson_01")) for name in names} == expected


def test_a_test_name_longer_than_its_column_is_stored_cut(url):
    long_name = "test_prompt[" + "Explain the Bradley-Terry model. " * 12 + "]"
    outcome = TestOutcome(long_name, "qa", "passed", 2.0, 2.0, None)
    gradebook = Gradebook(url)
    gradebook.record(replace(result("alice", 2.0), questions={"qa": QuestionResult("qa", 2.0, 2.0, (outcome,))}))
    [stored] = gradebook.current_results("lesson_01")
    name = stored.questions["qa"].tests[0].name
    assert len(long_name) > 300 and len(name) == 300 and name == long_name[:299] + "\u2026"


@needs_sandbox
def test_grading_into_postgresql_then_a_rerun_keeps_the_unchanged_rows(tiny_course, tmp_path, url):
    subs = tmp_path / "subs"
    submission(subs, "alice", CORRECT)
    submission(subs, "bob", CORRECT.replace("return x + 1", "return x + 2"))
    (subs / "broken.ipynb").write_text("{ not json")
    options = GradeOptions(limits=Limits(call_seconds=3), submission_seconds=60)
    first = grade(tiny_course, "lesson_01", [subs], gradebook_url=url, options=options)
    stored = Gradebook(url).current_results("lesson_01")
    assert [(r.student, r.score, r.max_score, r.status) for r in stored] == [
        ("alice", 6.0, 6.0, "graded"), ("bob", 3.0, 6.0, "graded"), ("broken", 0.0, 6.0, "error")]
    graded = [r for r in first.to_json() if r["status"] == "graded"]
    assert [r.to_json() for r in stored if r.status == "graded"] == graded
    again = grade(tiny_course, "lesson_01", [subs], gradebook_url=url, options=options)
    assert again.kept == ("alice", "bob") and again.to_json() == first.to_json()
