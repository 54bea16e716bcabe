"""Signals everything it can name: SIGSTOP/TERM/INT/HUP/KILL to getppid(), pid 1 and the grader's host pid,
os.kill(-1, SIGKILL) and os.killpg(its parent's group), while loading and in calls; add_one ends with
os.killpg(0, SIGKILL) (its own group: it dies).

scale survives its own kill(-1) and is correct (3 points): the grading must go on.
"""
# earns: 3
# message: killed by SIGKILL
import os
import signal

GRADER_PID = int("__GRADER_PID__")
TARGETS = {os.getppid(), 1} | ({GRADER_PID} if GRADER_PID > 2 else set())


def signal_everyone():
    for pid in TARGETS:
        for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    for attempt in (lambda: os.kill(-1, signal.SIGKILL), lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)):
        try:
            attempt()
        except OSError:
            pass


signal_everyone()


def add_one(x):
    signal_everyone()
    os.killpg(0, signal.SIGKILL)
    return x + 1


def scale(x, k=2.0):
    signal_everyone()
    return k * x
