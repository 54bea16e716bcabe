"""Runs programs to read the course: subprocess.run(cat), os.system, os.popen, os.execv; answers correctly only
if one ran.
"""
# earns: 0
import os
import subprocess

SOLUTIONS = "__COURSE__/solutions/lesson_01.py"
RAN = []


def attempt(name, fn):
    try:
        fn()
        RAN.append(name)
    except Exception:
        pass


attempt("subprocess", lambda: print(subprocess.run(["cat", SOLUTIONS], capture_output=True, timeout=2).stdout))
if os.system(f"cat {SOLUTIONS}") == 0:
    RAN.append("system")
attempt("popen", lambda: print(os.popen(f"cat {SOLUTIONS}").read()))
print("ran:", RAN)


def add_one(x):
    try:
        os.execv("/bin/cat", ["cat", SOLUTIONS])
    except OSError:
        pass
    return x + 1 if RAN else x - 7


def scale(x, k=2.0):
    return k * x if RAN else x - 7
