"""Run grading tasks in short-lived child processes, a few at a time.

Children are forked from a forkserver that has already imported torch, pytest and
hypothesis, so starting one costs milliseconds, and each task gets a clean pytest
and module state. A child that crashes, or runs past its deadline, still produces
an outcome for its task (``TaskFailed``), so a batch always finishes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Callable, Iterator

# rlgrade.cli: multiprocessing imports the parent's main script again in each child (as __mp_main__),
# and for `rlgrade grade` that script imports rlgrade.cli (typer, rich): 0.08 s a child unless preloaded
PRELOAD = ["torch", "pytest", "hypothesis", "rlgrade.grade", "rlgrade.validate", "rlgrade.testing.plugin",
           "rlgrade.cli", "rlgrade.warmup"]


@dataclass(frozen=True)
class TaskFailed:
    """A task whose child process died or overran; ``reason`` says which."""

    reason: str
    seconds: float


class _Slot:
    """Stands, in a task's args, for the resource of the slot that runs it (see ``run_tasks``)."""

    def __reduce__(self):
        return "SLOT"  # unpickles as this module's SLOT, so a task can travel (e.g. to a cluster)

    def __repr__(self) -> str:
        return "SLOT"


SLOT = _Slot()


def context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def die_with(pid: int) -> None:
    """SIGKILL this process (and so, through bubblewrap's --die-with-parent, its sandbox) once ``pid``
    exits. Run in a daemon thread. The grading children cannot rely on their parent's death: the
    forkserver outlives the grader while any child runs (each child holds its "alive" pipe)."""
    try:
        exited = os.pidfd_open(pid)  # Linux 5.3: readable once the process exits
    except ProcessLookupError:
        exited = None  # already gone
    except (AttributeError, OSError):  # no pidfds here: ask every second
        exited = None
        while process_exists(pid):
            time.sleep(1.0)
    if exited is not None:
        select.select([exited], [], [])
    os.kill(os.getpid(), signal.SIGKILL)


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _child(conn, fn: Callable, args: tuple, grader_pid: int) -> None:
    import torch  # noqa: PLC0415

    # a grader killed mid-batch leaves no grading children (and so no workers) running on
    threading.Thread(target=die_with, args=(grader_pid,), daemon=True).start()
    torch.set_num_threads(1)
    try:
        payload = {"ok": fn(*args)}
    except Exception as exc:  # noqa: BLE001 - the task's failure is its outcome
        payload = {"error": f"{type(exc).__name__}: {exc}"}
    conn.send(json.dumps(payload))
    conn.close()


def run_tasks(tasks: list[tuple[object, Callable, tuple]], *, workers: int, deadline: float,
              slot_resource: Callable[[int], object] = lambda slot: None) -> Iterator[tuple[object, object]]:
    """Yield ``(key, fn(*args))`` for each task as it finishes; ``fn`` returns JSON-able data.

    Tasks run in ``workers`` slots; ``SLOT`` in a task's args becomes ``slot_resource(slot)``
    for the slot that runs it (e.g. the socket of that slot's warm worker factory; file
    descriptors reach the child through the forkserver). A task that raises yields
    ``TaskFailed`` with the exception; one that dies or runs longer than ``deadline``
    seconds is killed and yields ``TaskFailed``.
    """
    if workers < 1:
        raise ValueError(f"workers={workers!r} must be at least 1")
    ctx = context()
    pending = list(tasks)
    free_slots = list(range(workers))
    running: dict = {}
    while pending or running:
        while pending and free_slots:
            slot = free_slots.pop(0)
            key, fn, args = pending.pop(0)
            args = tuple(slot_resource(slot) if isinstance(arg, _Slot) else arg for arg in args)
            reader, writer = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_child, args=(writer, fn, args, os.getpid()), daemon=True)
            process.start()
            writer.close()
            running[reader] = (key, process, time.monotonic(), slot)
        for reader in wait(list(running), timeout=0.5):
            key, process, started, slot = running.pop(reader)
            free_slots.append(slot)
            yield key, receive(reader, process, started)
        for reader, (key, process, started, slot) in list(running.items()):
            if time.monotonic() - started > deadline:
                process.kill()
                process.join()
                running.pop(reader)
                free_slots.append(slot)
                yield key, TaskFailed(f"took longer than {deadline:.0f} s and was stopped", time.monotonic() - started)


def receive(reader, process, started: float) -> object:
    try:
        payload = json.loads(reader.recv())
    except (EOFError, OSError, ValueError):
        process.join(5)
        return TaskFailed(f"the grader process died (exit code {process.exitcode})", time.monotonic() - started)
    finally:
        reader.close()
    process.join(5)
    if "error" in payload:
        return TaskFailed(f"internal grader error: {payload['error']}", time.monotonic() - started)
    return payload["ok"]
