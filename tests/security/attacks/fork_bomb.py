"""A (bounded) fork bomb and every other way to start a process: os.fork, os.posix_spawn, multiprocessing,
pty.fork, libc fork(); answers correctly only if one worked.
"""
# earns: 0
import ctypes
import multiprocessing
import os
import pty

SPAWNED = []


def attempt(name, fn):
    try:
        fn()
        SPAWNED.append(name)
    except Exception:
        pass


def bomb():
    for _ in range(64):  # bounded: if the sandbox failed, this must not take the test machine down
        if os.fork() == 0:
            os._exit(0)


def pty_fork():
    if pty.fork()[0] == 0:
        os._exit(0)


attempt("fork", bomb)
attempt("posix_spawn", lambda: os.posix_spawn("/bin/true", ["true"], {}))
attempt("multiprocessing", lambda: multiprocessing.get_context("fork").Process(target=print).start())
attempt("pty", pty_fork)
libc = ctypes.CDLL(None, use_errno=True)
pid = libc.fork()
if pid == 0:
    os._exit(0)
if pid > 0:
    SPAWNED.append("libc fork")
print("spawned:", SPAWNED)


def add_one(x):
    return x + 1 if SPAWNED else x - 7


def scale(x, k=2.0):
    return k * x if SPAWNED else x - 7
