"""Grading on a Dask distributed cluster (``--cluster``): a real LocalCluster of worker processes.

One cluster serves the whole module: each worker pays for its pool's forkserver (torch,
pytest) once, so the test that kills a worker comes last. Its scheduler gives up on a task
after one dead worker (instead of four).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from cluster_tasks import WHO, fails, kill_my_dask_worker, where_am_i
from conftest import needs_sandbox, submission
from rlgrade import cli
from rlgrade import cluster as dask_cluster
from rlgrade import grade as grade_module
from rlgrade.grade import GradeOptions, GradeReport, grade
from rlgrade.gradebook import Gradebook
from rlgrade.pool import TaskFailed
from rlgrade.sandbox import Limits

TESTS = Path(__file__).resolve().parent
CORRECT = "import torch\ndef add_one(x):\n    return x + 1\ndef scale(x, k=2.0):\n    return k * x\n"


@pytest.fixture(scope="module")
def cluster():
    """A client of a LocalCluster of two worker processes, one thread each."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local, \
            Client(local) as client:
        yield client


@pytest.fixture
def gpu_worker(cluster):
    """A third worker, started the way a GPU machine joins: ``dask worker ADDRESS --resources GPU=1``."""
    address = cluster.scheduler.address
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))  # cluster_tasks is imported
    env = {**os.environ, WHO: "gpu", "PYTHONPATH": path}
    process = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                "--resources", "GPU=1", "--no-dashboard"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cluster.wait_for_workers(3, timeout=60)
        yield process
    finally:
        process.terminate()
        process.wait(30)
        wait_until(lambda: len(cluster.scheduler_info(n_workers=-1)["workers"]) == 2)


def wait_until(condition, seconds: float = 30) -> None:
    stop = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < stop, "timed out"
        time.sleep(0.1)


# --- tests

def test_the_cli_passes_cluster_through(tiny_course, tmp_path, monkeypatch):
    seen = {}

    def fake_grade(*args, **kwargs):
        seen.update(kwargs)
        return GradeReport("lesson_01")

    monkeypatch.setattr(grade_module, "grade", fake_grade)
    submission(tmp_path / "subs", "alice", CORRECT)
    result = CliRunner().invoke(cli.app, ["grade", "lesson_01", str(tmp_path / "subs"), "--course", str(tiny_course.root),
                                          "--cluster", "tcp://10.0.0.5:8786"])
    assert result.exit_code == 0, result.output
    assert seen["cluster"] == "tcp://10.0.0.5:8786"


def test_an_unreachable_scheduler_is_a_clear_error():
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(RuntimeError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        list(dask_cluster.run_tasks([("a", where_am_i, ())], address="tcp://127.0.0.1:9", deadline=5))


@needs_sandbox
def test_cluster_grading_out_of_order_fills_the_gradebook_as_the_local_pool_does(cluster, tiny_course, tmp_path):
    subs = tmp_path / "subs"
    submission(subs, "aaron", "import time\ntime.sleep(6)\n" + CORRECT)  # first in line, last to finish
    submission(subs, "bob", CORRECT.replace("return x + 1", "return x + 2"))
    (subs / "zed.ipynb").write_text("{ not json")  # last in line, an instant error row
    options = GradeOptions(limits=Limits(call_seconds=10), submission_seconds=90)
    arrived = []
    on_cluster = grade(tiny_course, "lesson_01", [subs], gradebook_url=f"sqlite:///{tmp_path}/cluster.db",
                       options=options, cluster=cluster.scheduler.address,
                       on_result=lambda result, done, total: arrived.append(result.student))
    local = grade(tiny_course, "lesson_01", [subs], gradebook_url=f"sqlite:///{tmp_path}/local.db", options=options,
                  workers=2)
    assert arrived != sorted(arrived)  # results did come back out of submission order
    rows = {name: [r.to_json() for r in Gradebook(f"sqlite:///{tmp_path}/{name}.db").current_results("lesson_01")]
            for name in ("cluster", "local")}
    assert rows["cluster"] == rows["local"]
    assert [(r["student"], r["score"], r["status"]) for r in rows["cluster"]] == [
        ("aaron", 6.0, "graded"), ("bob", 3.0, "graded"), ("zed", 0.0, "error")]
    assert on_cluster.to_json() == local.to_json()


def test_a_task_that_raises_or_overruns_is_a_failed_task(cluster):
    tasks = [("bug", fails, ()), ("slow", where_am_i, (30,)), ("fine", where_am_i, ())]
    outcomes = dict(dask_cluster.run_tasks(tasks, address=cluster.scheduler.address, deadline=3))
    assert isinstance(outcomes["bug"], TaskFailed) and "ValueError: a bug in the grader" in outcomes["bug"].reason
    assert isinstance(outcomes["slow"], TaskFailed) and "longer than 3 s" in outcomes["slow"].reason
    assert outcomes["fine"] == "cpu"


def test_a_gpu_assignment_on_a_cluster_without_gpu_stops_with_that_reason(cluster, tiny_course, tmp_path):
    hidden = tiny_course.tests_dir("lesson_01") / "test_scale.py"
    assert not dask_cluster.needs_gpu(tiny_course, "lesson_01")
    hidden.write_text(hidden.read_text() + "\npytestmark = pytest.mark.gpu\n")
    assert dask_cluster.needs_gpu(tiny_course, "lesson_01")
    submission(tmp_path / "subs", "alice", CORRECT)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="needs a GPU and no worker of the cluster"):
        grade(tiny_course, "lesson_01", [tmp_path / "subs"], gradebook_url=f"sqlite:///{tmp_path}/gb.db",
              options=GradeOptions(sandbox=False), cluster=cluster.scheduler.address)
    assert time.monotonic() - started < 10  # refused at once, not queued for a worker that never comes
    assert Gradebook(f"sqlite:///{tmp_path}/gb.db").current_results("lesson_01") == []


def test_tasks_marked_gpu_run_only_on_workers_with_the_gpu_resource(cluster, gpu_worker):
    tasks = [(f"gpu{i}", where_am_i, (0.2,)) for i in range(5)] + [(f"cpu{i}", where_am_i, (0.2,)) for i in range(3)]
    gpu = {key for key, _, _ in tasks if key.startswith("gpu")}
    outcomes = dict(dask_cluster.run_tasks(tasks, address=cluster.scheduler.address, deadline=60, gpu=gpu))
    assert len(outcomes) == len(tasks)
    assert {outcomes[key] for key in gpu} == {"gpu"}


def test_a_dead_worker_is_a_failed_task_not_a_lost_one_and_its_grading_stops(cluster, tmp_path):
    pids = list(cluster.run(os.getpid).values())
    marker = tmp_path / "grading.pid"
    [(key, outcome)] = dask_cluster.run_tasks([("killer", kill_my_dask_worker, (pids, str(marker)))],
                                              address=cluster.scheduler.address, deadline=60)
    assert key == "killer" and isinstance(outcome, TaskFailed)
    assert "the Dask worker grading it died" in outcome.reason
    grading = int(marker.read_text())
    wait_until(lambda: not process_runs(grading), seconds=10)  # not left running, unwatched, after its worker


def process_runs(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
