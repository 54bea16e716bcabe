"""Task functions for tests/test_cluster.py. A Dask worker's grading process imports them by
module name, so they live apart from the test module (which imports distributed, typer, ...):
importing this one costs nothing on the clock of a task's deadline."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

WHO = "RLGRADE_TEST_WORKER"
"""Set in the GPU worker's environment: the grading process it starts inherits it, and says where it ran."""


def where_am_i(seconds: float = 0.0) -> str:
    time.sleep(seconds)
    return os.environ.get(WHO, "cpu")


def fails() -> None:
    raise ValueError("a bug in the grader")


def kill_my_dask_worker(worker_pids: list[int], marker: str) -> None:
    """SIGKILL the Dask worker this grading process descends from (only a pid in ``worker_pids``);
    write this process's pid to ``marker``."""
    Path(marker).write_text(str(os.getpid()))
    pid = os.getpid()
    while pid > 1 and pid not in worker_pids:
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's pid (field 4; the name may hold spaces)
    if pid not in worker_pids:
        raise RuntimeError("not running under a Dask worker")
    os.kill(pid, signal.SIGKILL)
    time.sleep(60)
