"""Prints fake results: a pytest '6 passed' summary, a results.json for itself and for other students, on stdout,
stderr and the raw fds, with control characters, NUL bytes and invalid UTF-8.
"""
# earns: 0
import json
import os
import sys

FAKE = json.dumps([{"student": name, "assignment": "lesson_01", "score": score, "max_score": 6.0, "status": "graded"}
                   for name, score in (("fake_output", 6.0), ("honest_full", 0.0), ("honest_partial", 0.0))])
print("========================= 6 passed in 0.12s =========================")
print(FAKE)
print('{"score": 6.0, "max_score": 6.0, "status": "graded", "error": null}', file=sys.stderr)
os.write(1, b"\x1b[2J\x1b[H\r6 passed\x00\xff\xfe\n")
os.write(2, FAKE.encode() + b"\n")


def add_one(x):
    print("test_add_one.py::test_matches_reference PASSED")
    print(FAKE)
    return x - 7


def scale(x, k=2.0):
    print("SCORE: 6/6")
    return x - 7
