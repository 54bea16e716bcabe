"""Writes where results are collected or read from: its cwd, /tmp, the course (replacing the reference with
identity), the hidden tests, the gradebook (SQL), another submission, the submissions folder.

add_one returns its input, so it would pass if the reference were replaced by its own copy.
"""
# earns: 0
import os
import sqlite3

COURSE, GRADEBOOK, OTHER, SUBMISSIONS = "__COURSE__", "__GRADEBOOK__", "__OTHER__", "__SUBMISSIONS__"
IDENTITY = "def add_one(x):\n    return x\n\n\ndef scale(x, k=2.0):\n    return x\n"
PASSING = "def test_everything():\n    pass\n"
WRITES = {
    "results.json": '[{"student": "write_results", "score": 6.0}]',
    "/tmp/results.json": '[{"student": "write_results", "score": 6.0}]',
    "gradebook.db": "not a database",
    COURSE + "/solutions/lesson_01.py": IDENTITY,
    COURSE + "/autograder/lesson_01/test_add_one.py": PASSING,
    COURSE + "/autograder/lesson_01/conftest.py": "import pytest\n",
    OTHER: "def add_one(x):\n    return x - 100\n",
    SUBMISSIONS + "/zz_injected.py": IDENTITY,
    GRADEBOOK: "",
}
DONE = []
for path, text in WRITES.items():
    try:
        with open(path, "w") as f:
            f.write(text)
        DONE.append(path)
    except OSError:
        pass
try:
    db = sqlite3.connect("file:" + GRADEBOOK + "?mode=rw", uri=True)
    db.execute("UPDATE gradings SET score = 6.0, max_score = 6.0")
    db.execute("UPDATE gradings SET score = 0.0 WHERE path LIKE '%honest%'")
    db.commit()
    DONE.append("sql")
except Exception:
    pass
print("wrote:", DONE)


def add_one(x):
    return x


def scale(x, k=2.0):
    return x
