"""The worker sandbox: what a submission's code can and cannot do.

Every test runs twice: with a cold worker (a new bubblewrap sandbox) and with a warm one
(forked from a zygote that has already served other submissions)."""

import os
import time

import pytest
import torch

from conftest import needs_sandbox
from rlgrade.sandbox import Limits, Worker, WorkerDied, WorkerTimeout, Zygote

pytestmark = needs_sandbox


@pytest.fixture(scope="module")
def zygotes():
    """Warm worker factories, one per size of /tmp (a zygote's sandbox sets it for all its workers)."""
    started: dict[int, Zygote] = {}

    def zygote_for(limits: Limits) -> Zygote:
        if limits.disk_bytes not in started:
            started[limits.disk_bytes] = Zygote(limits=limits)
            started[limits.disk_bytes].wait_ready()
        return started[limits.disk_bytes]

    yield zygote_for
    for zygote in started.values():
        zygote.close()


@pytest.fixture(params=["cold", "warm"])
def start_worker(request, zygotes):
    def start(limits=Limits(), secrets=()):
        if request.param == "cold":
            return Worker(limits=limits, secrets=secrets)
        return Worker(limits=limits, secrets=secrets, zygote=zygotes(limits).control)

    return start


@pytest.fixture
def run(tiny_course, start_worker):
    """Load ``code`` in a fresh sandboxed worker that must not see ``tiny_course``; call ``fn``."""
    workers = []

    def run(code, fn="f", *, limits=Limits(call_seconds=5), args=()):
        worker = start_worker(limits, tiny_course.secrets())
        workers.append(worker)
        loaded = worker.request({"op": "load", "cells": [[0, code]], "filename": "s.py"})
        assert loaded["errors"] == [], loaded
        return worker, worker.request({"op": "call", "fn": fn, "args": list(args), "kwargs": {}, "grad": None})

    yield run
    for w in workers:
        w.kill()


def test_course_files_are_invisible_by_absolute_and_relative_paths(run, tiny_course):
    target = tiny_course.solution_module("lesson_01")
    code = f"""
import os
def f():
    seen = []
    for p in [{str(target)!r}, "../../{target.relative_to(tiny_course.root.parent)}", "/proc/1/root{target}",
              {str(tiny_course.autograder)!r}]:
        seen.append(os.path.exists(p))
    return seen
"""
    _, response = run(code)
    assert response == {"ok": True, "value": [False, False, False, False], "mutated": [], "grads": None}


def test_grader_process_and_environment_are_invisible(run):
    os.environ["RLGRADE_TEST_SECRET"] = "hunter2"
    try:
        code = (f"import os\ndef f():\n    return [os.path.exists('/proc/{os.getpid()}'),"
                " 'RLGRADE_TEST_SECRET' in os.environ,"
                " 'RLGRADE_TEST_SECRET' in open('/proc/1/environ').read()]")  # pid 1: bubblewrap's own
        _, response = run(code)
    finally:
        del os.environ["RLGRADE_TEST_SECRET"]
    assert response["value"] == [False, False, False]


def test_no_network(run):
    code = """
import socket
def f():
    s = socket.socket()
    s.settimeout(2)
    return s.connect_ex(("1.1.1.1", 80))
"""
    _, response = run(code)
    assert response["ok"] and response["value"] != 0


@pytest.mark.parametrize("attempt", ["os.fork()", "subprocess.run(['true'])", "os.system('true') and None or os.fork()"])
def test_no_new_processes(run, attempt):
    _, response = run(f"import os, subprocess\ndef f():\n    return {attempt}")
    assert not response["ok"] and response["error"]["type"] in ("PermissionError", "OSError")


def test_a_hanging_call_times_out_and_the_worker_is_killed(start_worker):
    worker = start_worker(Limits(call_seconds=1))
    worker.request({"op": "load", "cells": [[0, "def f():\n    while True: pass"]], "filename": "s.py"})
    started = time.monotonic()
    with pytest.raises(WorkerTimeout):
        worker.request({"op": "call", "fn": "f", "args": [], "kwargs": {}, "grad": None})
    assert time.monotonic() - started < 5 and worker.process.poll() is not None


def test_memory_bomb_fails_inside_the_submission(run):
    _, response = run("import torch\ndef f():\n    return torch.ones(2_000_000_000).sum()", limits=Limits(memory_bytes=3 * 1024**3))
    assert not response["ok"] and "memory" in response["error"]["message"].lower()


def test_exiting_the_worker_is_reported_with_its_status(start_worker):
    worker = start_worker()
    worker.request({"op": "load", "cells": [[0, "import os\ndef f():\n    os._exit(7)"]], "filename": "s.py"})
    with pytest.raises(WorkerDied, match="status 7"):
        worker.request({"op": "call", "fn": "f", "args": [], "kwargs": {}, "grad": None})


def test_huge_output_is_drained_and_only_its_tail_kept(run):
    worker, response = run("def f():\n    print('x' * 10_000_000)\n    print('the end')\n    return 1")
    assert response["value"] == 1
    time.sleep(0.2)
    tail = worker.output_tail()
    assert tail.rstrip().endswith("the end") and len(tail) <= Limits().output_bytes


def test_large_files_are_refused(run):
    _, response = run("def f():\n    open('/tmp/big', 'wb').write(b'x' * (2 * 1024**2))", limits=Limits(file_bytes=1024**2))
    assert not response["ok"] and "File too large" in response["error"]["message"]


def test_writes_are_bounded_in_total_not_only_per_file(run):
    # a tmpfs is memory that RLIMIT_AS does not count: many files under the per-file limit must not add up
    code = """
import os
def f():
    written = {}
    for d in ("/tmp", "/", "/dev", "/dev/shm", "/opt"):
        written[d] = 0
        for i in range(12):
            try:
                with open(os.path.join(d, f"fill_{i}"), "wb") as out:
                    out.write(b"x" * 1024**2)
                written[d] += 1
            except OSError:
                break
    return written
"""
    _, response = run(code, limits=Limits(call_seconds=5, file_bytes=2 * 1024**2, disk_bytes=8 * 1024**2))
    written = response["value"]
    assert written["/"] == written["/dev"] == written["/opt"] == 0
    assert 1 <= written["/tmp"] <= 8 and written["/dev/shm"] <= 1


def test_tensors_and_gradients_cross_the_boundary(run):
    worker, _ = run("def f(x, k=1.0):\n    return (x * x * k).sum(), x.shape[0]")
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    response = worker.request({"op": "call", "fn": "f", "args": [x], "kwargs": {"k": 3.0},
                               "grad": {"wrt": [0], "output": 0, "cotangent": None}})
    assert response["value"][0].item() == 15.0 and response["value"][1] == 2
    assert torch.equal(response["grads"][0], torch.tensor([6.0, 12.0], dtype=torch.float64))


def test_registered_callables_and_generators_cross_the_boundary(run):
    from rlgrade.worker.callables import MatVec

    A = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    _, response = run("def f(avp, v):\n    return avp(v)", args=(MatVec(A), torch.ones(2, dtype=torch.float64)))
    assert torch.equal(response["value"], A.sum(1))
    _, response = run("import torch\ndef f(g):\n    return torch.randint(0, 100, (8,), generator=g)",
                      args=(torch.Generator().manual_seed(5),))
    assert torch.equal(response["value"], torch.randint(0, 100, (8,), generator=torch.Generator().manual_seed(5)))


def test_no_capabilities_even_when_the_grader_is_root(run):
    # run as root, bubblewrap used to leave the worker every capability in its namespaces: it
    # remounted the read-only /usr read-write and wrote to the host
    code = """
import ctypes, os
def f():
    libc = ctypes.CDLL(None, use_errno=True)
    caps = [line.split()[1] for line in open("/proc/self/status") if line.startswith(("CapEff", "CapPrm"))]
    remount = libc.mount(b"none", b"/usr", None, 32 | 4096, None)  # MS_REMOUNT | MS_BIND: read-write
    tmpfs = libc.mount(b"none", b"/tmp", b"tmpfs", 0, b"size=10g")
    return [caps, remount, tmpfs, os.access("/usr", os.W_OK)]
"""
    _, response = run(code)
    assert response["value"] == [["0000000000000000"] * 2, -1, -1, False]


def test_gpu_limits_bind_the_nvidia_devices_and_only_then(monkeypatch):
    from rlgrade import sandbox  # noqa: PLC0415

    monkeypatch.setattr(sandbox, "bwrap_path", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr(sandbox, "nvidia_devices", lambda: ["/dev/nvidia0", "/dev/nvidiactl"])
    with_gpu = sandbox.sandbox_command("pass", secrets=[], limits=Limits(gpu=True))
    without = sandbox.sandbox_command("pass", secrets=[], limits=Limits())
    assert "--dev-bind /dev/nvidia0 /dev/nvidia0 --dev-bind /dev/nvidiactl /dev/nvidiactl" in " ".join(with_gpu)
    assert not any("nvidia" in arg for arg in without)


@pytest.mark.parametrize("gpu", [False, True])
def test_the_address_space_limit_is_lifted_only_for_gpu_tasks(gpu):
    import dataclasses  # noqa: PLC0415
    import resource  # noqa: PLC0415

    from rlgrade.worker.zygote import apply_limits  # noqa: PLC0415

    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # rlimits are per process: set them in a child and report what it got
        os.close(reader)
        apply_limits(dataclasses.asdict(Limits(gpu=gpu)))
        os.write(writer, str(resource.getrlimit(resource.RLIMIT_AS)[0]).encode())
        os._exit(0)
    os.close(writer)
    limit = int(os.read(reader, 100))
    os.waitpid(pid, 0)
    assert limit == (resource.RLIM_INFINITY if gpu else Limits().memory_bytes)
