"""Run grading tasks on a Dask distributed cluster instead of the local pool (``--cluster``).

The tasks are the local pool's (``rlgrade.pool``): each Dask task grades through
``rlgrade.pool.run_tasks`` with one worker, so the grading still happens in a fresh
process forked from a clean forkserver (pytest never runs twice in one process, and a
long-lived Dask worker's state never reaches the sandboxed worker) and is killed at the
same deadline (the submission's sandbox starts cold there: the local pool's warm
factories are not used on a cluster). A task whose Dask worker dies goes to another
worker, up to the scheduler's ``allowed-failures``, then yields ``TaskFailed``: every task
gets an outcome, as with the pool.

Deploying: every Dask worker needs rlgrade installed and the course and submissions at
the same paths as on the grading machine (a shared file system); it grades as many
submissions at once as it has threads (``dask worker tcp://HOST:8786 --nthreads 4``).
An assignment whose hidden tests are marked ``gpu`` goes only to workers started with
``--resources GPU=1``. The grading secret travels to the workers with each task: use a
``tls://`` scheduler off a trusted network.
"""

from __future__ import annotations

import multiprocessing
import re
import time
import uuid
from typing import Callable, Collection, Iterator

from rlgrade.course import Course
from rlgrade.pool import TaskFailed

GPU = {"GPU": 1}
"""What a GPU task asks of its Dask worker: one unit of the resource ``GPU``."""
GPU_MARK = re.compile(r"\bmark\.gpu\b")


def needs_gpu(course: Course, assignment: str) -> bool:
    """True when the assignment's hidden tests are marked ``gpu`` (``pytest.mark.gpu``): they
    fine-tune a model, so its submissions must be graded on a worker with a GPU."""
    return any(GPU_MARK.search(path.read_text(encoding="utf-8", errors="replace"))
               for path in course.hidden_test_files(assignment))


def run_assignment_tasks(course: Course, assignment: str, tasks: list[tuple[object, Callable, tuple]], *,
                         address: str, deadline: float) -> Iterator[tuple[object, object]]:
    """``grade_batch``'s tasks on the cluster: all of them on GPU workers when the assignment's
    hidden tests need a GPU (the inventory too, so that a cluster without one stops the batch at
    once with that reason, before any row is written)."""
    gpu = [key for key, _, _ in tasks] if needs_gpu(course, assignment) else []
    return run_tasks(tasks, address=address, deadline=deadline, gpu=gpu)


def run_tasks(tasks: list[tuple[object, Callable, tuple]], *, address: str, deadline: float,
              gpu: Collection = ()) -> Iterator[tuple[object, object]]:
    """Yield ``(key, fn(*args))`` for each task as it finishes on the cluster at ``address``.

    The same contract as ``rlgrade.pool.run_tasks``: a task that raises, overruns
    ``deadline`` or whose process (or Dask worker) dies yields ``TaskFailed``. The tasks
    whose key is in ``gpu`` run only on workers that declare the ``GPU`` resource.
    """
    from distributed import as_completed  # noqa: PLC0415 - dask is imported only for --cluster

    with connect(address) as client:
        gpu_workers = count_gpu_workers(client)
        batch = uuid.uuid4().hex[:8]
        futures = {}
        for index, (key, fn, args) in enumerate(tasks):
            if key in gpu and not gpu_workers:
                yield key, TaskFailed(f"it needs a GPU and no worker of the cluster at {address} has one "
                                      "(start one with: dask worker ADDRESS --resources GPU=1)", 0.0)
                continue
            future = client.submit(grade_in_fresh_process, fn, args, deadline, key=f"rlgrade-{batch}-{index}",
                                   resources=GPU if key in gpu else None, pure=False)
            futures[future] = (key, time.monotonic())
        for future in as_completed(futures, loop=client.loop):
            key, started = futures.pop(future)
            yield key, outcome_of(future, started)


def connect(address: str):
    """A client of the scheduler at ``address``, or a RuntimeError that says it cannot be reached."""
    from distributed import Client  # noqa: PLC0415

    try:
        return Client(address, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise RuntimeError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def count_gpu_workers(client) -> int:
    """How many of the cluster's workers declare the ``GPU`` resource now."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return sum(1 for worker in workers if worker.get("resources", {}).get("GPU", 0) >= GPU["GPU"])


def outcome_of(future, started: float) -> object:
    """A finished future's result, or ``TaskFailed`` where the cluster could not run it."""
    from distributed.scheduler import KilledWorker  # noqa: PLC0415

    try:
        return future.result()
    except KilledWorker as exc:
        return TaskFailed(f"the Dask worker grading it died ({exc.allowed_failures + 1} time(s), "
                          f"last on {exc.last_worker.address})", time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - a lost scheduler, a cancelled task: still a row
        return TaskFailed(f"the Dask cluster could not run it: {type(exc).__name__}: {exc}", time.monotonic() - started)


def grade_in_fresh_process(fn: Callable, args: tuple, deadline: float) -> object:
    """Runs on a Dask worker: ``fn(*args)`` in a new process of the local pool, its outcome
    (``TaskFailed`` pickles, so it comes back as it is). The pool's process dies with the process
    that started it, this Dask worker: a dead worker's grading does not run on, unwatched and past
    its deadline, while the scheduler grades it again elsewhere."""
    from rlgrade.pool import run_tasks as run_locally  # noqa: PLC0415

    allow_children()
    [(_, outcome)] = run_locally([(None, fn, args)], workers=1, deadline=deadline)
    return outcome


def allow_children() -> None:
    """Dask starts its worker processes as daemons, which multiprocessing forbids to start
    processes (so that none outlives them). The grading processes may be started all the same:
    each dies with this worker (``rlgrade.pool.die_with``), and the pool's forkserver exits once they have."""
    current = multiprocessing.current_process()
    if current.daemon:
        current.daemon = False
