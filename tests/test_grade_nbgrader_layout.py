"""Grading nbgrader's course layout: ``submitted/<student>/<assignment>/`` with ``timestamp.txt``."""

import json
from datetime import datetime, timedelta, timezone

import nbformat
import pytest
from typer.testing import CliRunner

from conftest import index_of, needs_sandbox
from rlgrade.cli import app
from rlgrade.grade import discover, format_delay, parse_timestamp

DUE = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def notebook(path, nb=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb or nbformat.v4.new_notebook(), path)
    return path


def answered(course, add_one="x + 1"):
    """The release notebook with both questions answered (``add_one`` returns ``add_one``)."""
    nb = nbformat.read(course.release_notebook("lesson_01"), as_version=4)
    nb.cells[index_of(nb, "add_one")].source = f"def add_one(x):\n    return {add_one}"
    nb.cells[index_of(nb, "scale")].source = "def scale(x, k=2.0):\n    return x * k"
    return nb


def submitted(root, student, assignment="lesson_01", name="problem_set.ipynb", timestamp=None, **kw):
    """``root/student/assignment/name`` (and its ``timestamp.txt`` when given), as nbgrader collects them."""
    folder = root / student / assignment
    path = notebook(folder / name, **kw)
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp + "\n")
    return path


def by_student(found):
    return {s.student: s for s in found}


def test_a_submitted_folder_yields_each_students_notebook_for_the_assignment(tmp_path):
    root = tmp_path / "submitted"
    alice = submitted(root, "alice", timestamp="2025-03-01 11:30:00.250000 UTC")
    submitted(root, "alice", assignment="lesson_02")  # another assignment: not this one's
    bob = submitted(root, "bob", name="my work.ipynb")  # renamed, and no timestamp.txt
    carol = submitted(root, "carol", timestamp="2025-03-01T13:00:00+02:00")
    notebook(root / "carol" / "lesson_01" / "scratch.ipynb")  # a second notebook: the release's name wins
    notebook(root / "carol" / "lesson_01" / ".ipynb_checkpoints" / "problem_set-checkpoint.ipynb")
    submitted(root, "dan", assignment="lesson_02")  # did not submit lesson_01
    submitted(root, "erin", name="a.ipynb")
    notebook(root / "erin" / "lesson_01" / "b.ipynb")  # two notebooks, neither is problem_set.ipynb

    found = by_student(discover([root], assignment="lesson_01"))

    assert sorted(found) == ["alice", "bob", "carol", "erin"]
    assert (found["alice"].path, found["bob"].path, found["carol"].path) == (alice, bob, carol)
    assert found["alice"].submitted_at == datetime(2025, 3, 1, 11, 30, 0, 250000, tzinfo=timezone.utc)
    assert found["carol"].submitted_at == datetime(2025, 3, 1, 11, 0, tzinfo=timezone.utc)
    assert found["bob"].submitted_at is None
    assert found["erin"].problem.endswith("holds 2 notebooks, none named problem_set.ipynb")
    assert all(s.problem is None for name, s in found.items() if name != "erin")
    assert all(s.notes == () for s in found.values())  # no due date, nothing to flag


def test_without_the_assignment_name_a_submitted_folder_is_a_folder_of_student_folders(tmp_path):
    root = tmp_path / "submitted"
    submitted(root, "alice")
    submitted(root, "alice", assignment="lesson_02")
    [alice] = discover([root])
    assert alice.problem is not None and "2 notebooks" in alice.problem  # the generic rule, unchanged


def test_a_folder_with_notebooks_outside_assignment_folders_is_not_taken_for_nbgraders(tmp_path):
    root = tmp_path / "subs"
    submitted(root, "carol")  # carol happened to name her folder like the assignment
    notebook(root / "dan" / "work.ipynb")
    assert sorted(s.student for s in discover([root], assignment="lesson_01")) == ["carol", "dan"]


def test_a_due_date_flags_late_and_undated_submissions_only(tmp_path):
    root = tmp_path / "submitted"
    submitted(root, "late", timestamp="2025-03-01 14:05:30.000000 UTC")
    submitted(root, "early", timestamp="2025-03-01 11:59:59.999999 UTC")
    submitted(root, "exact", timestamp="2025-03-01T13:00:00+01:00")  # on the second, in another zone
    submitted(root, "undated")
    submitted(root, "garbled", timestamp="yesterday, around noon")

    found = by_student(discover([root], assignment="lesson_01", due=DUE))

    assert found["late"].notes == ("late by 2 h 5 min (submitted 2025-03-01 14:05:30 UTC, due 2025-03-01 12:00:00 UTC)",)
    assert found["early"].notes == found["exact"].notes == ()
    assert found["undated"].notes == ("submission time unknown (no timestamp.txt): cannot tell whether it is late",)
    [garbled] = found["garbled"].notes
    assert garbled.startswith("submission time unknown (timestamp.txt holds 'yesterday, around noon', not a time)")


@pytest.mark.parametrize("text, expected", [
    ("2025-03-01 12:05:00.123456 UTC", datetime(2025, 3, 1, 12, 5, 0, 123456, tzinfo=timezone.utc)),
    ("2025-03-01 13:05:00 CET", datetime(2025, 3, 1, 12, 5, tzinfo=timezone.utc)),
    ("2025-03-01 07:05:00 -0500", datetime(2025, 3, 1, 12, 5, tzinfo=timezone.utc)),
    ("2025-07-01 08:05:00 America/New_York", datetime(2025, 7, 1, 12, 5, tzinfo=timezone.utc)),  # EDT
    ("2025-03-01T14:05+02:00", datetime(2025, 3, 1, 12, 5, tzinfo=timezone.utc)),
    ("2025-03-01 12:05", datetime(2025, 3, 1, 12, 5, tzinfo=timezone.utc)),  # no zone: UTC, as nbgrader reads it
])
def test_timestamps_are_read_in_nbgraders_and_iso_formats(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["", "noon", "2025-03-01 12:05 PDT", "2025-13-01 12:05 UTC"])
def test_unreadable_timestamps_are_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_nbgraders_own_timestamp_reads_back_as_the_time_it_was_written():
    from nbgrader.exchange.abc.exchange import Exchange  # noqa: PLC0415 - slow import

    exchange = Exchange()  # its defaults: timezone UTC, timestamp_format "%Y-%m-%d %H:%M:%S.%f %Z"
    before = datetime.now(timezone.utc)
    exchange.set_timestamp()  # what `nbgrader submit` writes to timestamp.txt
    assert before <= parse_timestamp(exchange.timestamp) <= datetime.now(timezone.utc)


@pytest.mark.parametrize("delay, text", [
    (timedelta(hours=2, minutes=5, seconds=59), "2 h 5 min"),
    (timedelta(days=1, minutes=3), "1 d 0 h 3 min"),
    (timedelta(minutes=7), "7 min"),
    (timedelta(seconds=40), "40 s"),
])
def test_delays_read_like_a_person_would_say_them(delay, text):
    assert format_delay(delay) == text


@needs_sandbox
def test_grade_flags_late_rows_keeps_scores_and_a_new_due_date_refreshes_them(tiny_course, tmp_path):
    root = tmp_path / "submitted"
    submitted(root, "alice", timestamp="2025-03-01 14:05:00.000000 UTC", nb=answered(tiny_course))
    submitted(root, "bob", timestamp="2025-03-01 09:00:00.000000 UTC", nb=answered(tiny_course, add_one="x + 2"))
    db, out = f"sqlite:///{tmp_path}/gb.db", tmp_path / "r.json"
    args = ["grade", "lesson_01", str(root), "--gradebook", db, "--json", str(out), "--course", str(tiny_course.root)]

    first = CliRunner().invoke(app, [*args, "--due", "2025-03-01T12:00:00Z", "--workers", "2"])
    assert first.exit_code == 0, first.output
    assert "1 late submission(s): alice (late by 2 h 5 min)" in first.output
    rows = {r["student"]: r for r in json.loads(out.read_text())}
    assert (rows["alice"]["score"], rows["alice"]["max_score"], rows["bob"]["score"]) == (6.0, 6.0, 3.0)
    assert rows["alice"]["warnings"][0].startswith("late by 2 h 5 min") and rows["bob"]["warnings"] == []

    # the deadline was extended: alice is no longer late; bob's unchanged row is kept
    second = CliRunner().invoke(app, [*args, "--due", "2025-03-01T16:00:00+01:00"])
    assert second.exit_code == 0, second.output
    assert "late submission" not in second.output and "1 unchanged submission(s) kept" in second.output
    rows = {r["student"]: r for r in json.loads(out.read_text())}
    assert rows["alice"]["warnings"] == [] and rows["alice"]["score"] == 6.0


def test_a_due_date_that_is_not_a_date_is_a_usage_error(tiny_course, tmp_path):
    out = CliRunner().invoke(app, ["grade", "lesson_01", str(tmp_path), "--due", "friday",
                                   "--course", str(tiny_course.root)])
    assert out.exit_code == 2 and "--due 'friday' is not a date and time" in out.output
