"""Reads the course and the gradebook by relative paths: from the worker's cwd, from the grader's cwd, and '../'
chains.
"""
# earns: 0
import os

COURSE, GRADEBOOK, GRADER_CWD = "__COURSE__", "__GRADEBOOK__", "__GRADER_CWD__"
candidates = ["solutions/lesson_01.py", "../solutions/lesson_01.py", "autograder/lesson_01/test_add_one.py",
              "gradebook.db", "../gradebook.db"]
for target in (COURSE + "/solutions/lesson_01.py", GRADEBOOK):
    candidates.append("../" * 16 + target.lstrip("/"))
    candidates.append(os.path.relpath(target, GRADER_CWD))
    candidates.append(os.path.relpath(target, os.getcwd()))
LOOT = []
for path in candidates:
    try:
        with open(path, "rb") as f:
            LOOT.append(f.read().decode(errors="replace"))
    except OSError:
        pass
if LOOT:
    print("\n".join(LOOT))


def add_one(x):
    return x + 1 if LOOT else x - 7


def scale(x, k=2.0):
    return k * x if LOOT else x - 7
