"""Crash safety: a grader killed mid-batch resumes without regrading or losing anything, and two
graders can share one gradebook."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

from conftest import needs_sandbox, submission
from rlgrade.grade import GradeOptions, grade
from rlgrade.gradebook import Gradebook
from rlgrade.sandbox import Limits

pytestmark = needs_sandbox

CORRECT = "import torch\ndef add_one(x):\n    return x + 1\ndef scale(x, k=2.0):\n    return k * x\n"
HALF = CORRECT.replace("x + 1", "x + 2")
FAST = GradeOptions(limits=Limits(call_seconds=3), submission_seconds=60)


def class_of(directory: Path, n: int) -> list[str]:
    students = [f"s{i:02d}" for i in range(n)]
    for i, student in enumerate(students):
        submission(directory, student, CORRECT if i % 2 == 0 else HALF)
    return students


def grader(course, subs: Path, url: str, tag: str, *extra: str) -> subprocess.Popen:
    """``rlgrade grade`` as its own process (tagged through its environment, which its children inherit)."""
    cmd = [sys.executable, "-m", "rlgrade.cli", "grade", "lesson_01", str(subs), "--gradebook", url,
           "--course", str(course.root), *extra]
    return subprocess.Popen(cmd, env={**os.environ, "RLGRADE_TEST_TAG": tag},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def tagged_processes(tag: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"RLGRADE_TEST_TAG={tag}".encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def rows(db: Path) -> list[tuple[str, int]]:
    """(student, number of gradings) for every submission in the gradebook; none while its tables do not exist yet."""
    with sqlite3.connect(db, timeout=30) as con:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gradings'").fetchone():
            return []  # the grader has created the file but not yet its schema
        return con.execute("SELECT s.student_id, COUNT(g.id) FROM submissions s JOIN gradings g "
                           "ON g.submission_id = s.id GROUP BY s.student_id ORDER BY s.student_id").fetchall()


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_grader_killed_mid_batch_resumes_without_regrading_or_losing_rows(tiny_course, tmp_path):
    subs, db, tag = tmp_path / "subs", tmp_path / "gb.db", uuid.uuid4().hex
    students = class_of(subs, 6)
    first = grader(tiny_course, subs, f"sqlite:///{db}", tag)
    assert wait_for(lambda: db.exists() and len(rows(db)) >= 2, 240), first.communicate()[0].decode()[-2000:]
    first.send_signal(signal.SIGKILL)
    first.wait()
    graded_before = dict(rows(db))
    assert 2 <= len(graded_before) < len(students)
    # nothing the killed grader started keeps running: grading children and sandboxed workers die with it
    assert wait_for(lambda: not tagged_processes(tag), 20), tagged_processes(tag)

    second = grader(tiny_course, subs, f"sqlite:///{db}", tag)
    output = second.communicate(timeout=300)[0].decode()
    assert second.returncode == 0, output[-3000:]
    assert f"{len(graded_before)} unchanged submission(s) kept" in output
    after = dict(rows(db))
    assert sorted(after) == students  # every student, once
    assert all(after[s] == 1 for s in graded_before)  # nothing recorded before the kill was graded again
    current = Gradebook(f"sqlite:///{db}").current_results("lesson_01")
    assert [(r.student, r.score) for r in current] == [(s, 6.0 if i % 2 == 0 else 3.0) for i, s in enumerate(students)]


def test_a_rerun_regrades_only_what_changed(tiny_course, tmp_path):
    subs, url = tmp_path / "subs", f"sqlite:///{tmp_path}/gb.db"
    class_of(subs, 3)
    assert grade(tiny_course, "lesson_01", [subs], gradebook_url=url, options=FAST).kept == ()
    again = grade(tiny_course, "lesson_01", [subs], gradebook_url=url, options=FAST)
    assert again.kept == ("s00", "s01", "s02") and len(again.results) == 3

    submission(subs, "s01", CORRECT)  # s01 fixes the bug and resubmits
    fixed = grade(tiny_course, "lesson_01", [subs], gradebook_url=url, options=FAST)
    assert fixed.kept == ("s00", "s02") and {r.student: r.score for r in fixed.results}["s01"] == 6.0

    test_file = tiny_course.tests_dir("lesson_01") / "test_scale.py"
    test_file.write_text(test_file.read_text() + "\n# the tests changed\n")
    assert grade(tiny_course, "lesson_01", [subs], gradebook_url=url, options=FAST).kept == ()
    assert grade(tiny_course, "lesson_01", [subs], gradebook_url=url, options=FAST, regrade=True).kept == ()
    assert [len(Gradebook(url).history(s, "lesson_01")) for s in ("s00", "s01", "s02")] == [3, 4, 3]


def test_two_graders_on_one_gradebook_do_not_corrupt_it(tiny_course, tmp_path):
    subs, db, tag = tmp_path / "subs", tmp_path / "gb.db", uuid.uuid4().hex
    students = class_of(subs, 4)
    both = [grader(tiny_course, subs, f"sqlite:///{db}", tag, "--regrade") for _ in range(2)]
    for process in both:
        output = process.communicate(timeout=300)[0].decode()
        assert process.returncode == 0, output[-3000:]
    assert rows(db) == [(s, 2) for s in students]  # each student graded by both, nothing lost or doubled
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        dangling = con.execute("SELECT COUNT(*) FROM submissions s LEFT JOIN gradings g ON s.current_grading_id = g.id "
                               "WHERE g.id IS NULL").fetchone()
    assert dangling == (0,)
    current = Gradebook(f"sqlite:///{db}").current_results("lesson_01")
    assert [r.student for r in current] == students


def test_an_old_gradebook_gains_the_new_columns(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as con:  # the gradings table as rlgrade 0.1 wrote it
        con.execute("CREATE TABLE gradings (id INTEGER PRIMARY KEY, submission_id INTEGER, graded_at DATETIME, path TEXT, "
                    "content_hash VARCHAR(64), status VARCHAR(20), error TEXT, score FLOAT, max_score FLOAT, "
                    "warnings JSON, output TEXT, seconds FLOAT)")
    Gradebook(f"sqlite:///{db}")
    with sqlite3.connect(db) as con:
        columns = {row[1] for row in con.execute("PRAGMA table_info(gradings)")}
    assert "grader_hash" in columns
