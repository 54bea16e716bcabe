"""Warm workers: what one submission's worker can do to the next one forked from the same zygote,
and to the zygote itself (nothing), and how the grader copes with a zygote that is gone.

tests/test_sandbox.py runs every single-worker isolation test on warm workers too."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import needs_sandbox
from rlgrade.sandbox import Limits, Worker, WorkerDied, Zygote, ZygotePool
from rlgrade.testing.student import SandboxBackend

pytestmark = needs_sandbox

LIMITS = Limits(call_seconds=5)


@pytest.fixture
def zygote():
    zygote = Zygote(limits=LIMITS)
    zygote.wait_ready()
    yield zygote
    zygote.close()


def call(worker: Worker, code: str, *args):
    loaded = worker.request({"op": "load", "cells": [[0, code]], "filename": "s.py"})
    assert loaded["errors"] == [], loaded
    response = worker.request({"op": "call", "fn": "f", "args": list(args), "kwargs": {}, "grad": None})
    assert response["ok"], response
    return response["value"]


LEAVE_TRACES = """
import os, socket, threading, time
def f():
    os.makedirs("/tmp/deep/er/locked", exist_ok=True)
    open("/tmp/deep/er/locked/answer.py", "w").write("def solution(): ...")
    os.chmod("/tmp/deep/er/locked", 0)
    os.chmod("/tmp/deep", 0o500)
    os.symlink("/tmp/deep", "/tmp/link")
    open("/dev/shm/note", "w").write("x")
    os.mkfifo("/tmp/fifo")
    os.environ["LEFT_BEHIND"] = "1"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind("\\0rlgrade-left-behind")
    listener.listen()
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 45678))
    tcp.listen()
    threading.Thread(target=lambda: (listener.accept(), tcp.accept()), daemon=True).start()
    return sorted(os.listdir("/tmp"))
"""

LOOK_FOR_TRACES = """
import os, socket
def f():
    found = [p for p in ("/tmp/deep", "/tmp/link", "/tmp/fifo", "/dev/shm/note") if os.path.lexists(p)]
    found += ["env"] if "LEFT_BEHIND" in os.environ else []
    unix = socket.socket(socket.AF_UNIX)
    found += ["unix"] if unix.connect_ex("\\0rlgrade-left-behind") == 0 else []
    tcp = socket.socket()
    found += ["tcp"] if tcp.connect_ex(("127.0.0.1", 45678)) == 0 else []
    return found
"""


def test_nothing_one_submission_leaves_reaches_the_next(zygote):
    first = Worker(limits=LIMITS, zygote=zygote.control)
    assert {"deep", "link", "fifo"} <= set(call(first, LEAVE_TRACES))
    first.kill()
    second = Worker(limits=LIMITS, zygote=zygote.control)
    assert call(second, LOOK_FOR_TRACES) == []
    second.kill()


TOUCH_THE_ZYGOTE = """
import os, resource, signal
def ppid_of(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("PPid:"):
            return int(line.split()[1])
def attempt(action):
    try:
        action()
        return "allowed"
    except OSError:
        return "blocked"
def f():
    monitor = os.getppid()
    zygote = ppid_of(monitor)
    results = {}
    for name, pid in (("monitor", monitor), ("zygote", zygote)):
        results[name] = [
            attempt(lambda: os.kill(pid, signal.SIGSTOP)),
            attempt(lambda: resource.prlimit(pid, resource.RLIMIT_AS, (1, 1))),
            attempt(lambda: open(f"/proc/{pid}/mem", "rb").read(1)),
            attempt(lambda: open(f"/proc/{pid}/environ", "rb").read()),
            attempt(lambda: os.readlink(f"/proc/{pid}/fd/0")),
        ]
    results["everyone"] = attempt(lambda: os.kill(-1, signal.SIGKILL))
    results["descriptors"] = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    return results
"""


def test_a_worker_cannot_reach_its_zygote_or_monitor(zygote):
    worker = Worker(limits=LIMITS, zygote=zygote.control)
    results = call(worker, TOUCH_THE_ZYGOTE)
    assert results["monitor"] == results["zygote"] == ["blocked"] * 5
    assert results["everyone"] == "blocked"
    # stdin/stdout/stderr, the two pipes to the grader, and the listing's own descriptor: not the
    # zygote's control socket, not the monitor's
    assert len(results["descriptors"]) == 6, results["descriptors"]
    worker.kill()
    next_worker = Worker(limits=LIMITS, zygote=zygote.control)
    assert call(next_worker, "def f():\n    return 42") == 42
    next_worker.kill()


def test_a_dead_worker_is_reported_with_its_status_by_the_monitor(zygote):
    worker = Worker(limits=Limits(call_seconds=5, cpu_seconds=1), zygote=zygote.control)
    worker.request({"op": "load", "cells": [[0, "def f():\n    while True: pass"]], "filename": "s.py"})
    with pytest.raises(WorkerDied, match="SIGXCPU"):
        worker.request({"op": "call", "fn": "f", "args": [], "kwargs": {}, "grad": None})


GRADER = """
import sys, time
from rlgrade.sandbox import Limits, Worker
from rlgrade.worker.codec import encode
import socket
control = socket.socket(fileno=int(sys.argv[1]))
worker = Worker(limits=Limits(call_seconds=60), zygote=control)
worker.request({"op": "load", "cells": [[0, "def f():\\n    while True: pass"]], "filename": "s.py"})
print("busy", flush=True)
worker.request({"op": "call", "fn": "f", "args": [], "kwargs": {}, "grad": None})
"""


def descendants(pid: int) -> set[int]:
    """Live (not zombie) processes below ``pid``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue
            if state != "Z":
                parents[int(entry.name)] = int(parent)
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def test_a_grader_killed_mid_call_leaves_no_worker_running(zygote):
    idle = len(descendants(zygote.process.pid))
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(zygote.control.fileno())],
                              pass_fds=(zygote.control.fileno(),), stdout=subprocess.PIPE, text=True)
    assert grader.stdout.readline().strip() == "busy"
    assert len(descendants(zygote.process.pid)) == idle + 2  # the monitor and the spinning worker
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 10
    while len(descendants(zygote.process.pid)) > idle and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(descendants(zygote.process.pid)) == idle
    worker = Worker(limits=LIMITS, zygote=zygote.control)
    assert call(worker, "def f():\n    return 'next'") == "next"
    worker.kill()


def test_the_pool_boots_slots_on_first_use_and_replaces_a_dead_zygote():
    with ZygotePool(2, limits=LIMITS, start=1) as pool:
        assert pool.zygotes[1] is None  # booted when slot 1 is first used
        first = pool.control(0)
        os.killpg(pool.zygotes[0].process.pid, signal.SIGKILL)
        pool.zygotes[0].process.wait()
        second = pool.control(0)
        assert second is not first
        for control in (second, pool.control(1)):
            worker = Worker(limits=LIMITS, zygote=control)
            assert call(worker, "def f():\n    return 1") == 1
            worker.kill()


def test_a_submission_falls_back_to_a_cold_worker_when_the_zygote_is_gone(zygote):
    zygote.close()
    backend = SandboxBackend([[0, "def f():\n    return 7"]], filename="s.py", limits=LIMITS, zygote=zygote.control)
    try:
        backend.start()
        response = backend.request({"op": "call", "fn": "f", "args": [], "kwargs": {}, "grad": None})
    finally:
        backend.close()
    assert response["value"] == 7 and backend.zygote is None
