"""A student's view, for real: JupyterLab serves a release notebook with one question answered,
headless Chromium opens it and runs all cells, and the page shows what the release's last cell,
``from rlgrade import check; check()``, printed (that question passed, the others not
implemented yet).

The server runs on localhost on a free port with a token, in a temporary root folder, with
its own Jupyter config, data and runtime folders (no user settings or kernels leak in); its
kernel is this Python (where rlgrade is installed), set by a kernelspec of our own that
shadows any other "python3". JupyterLab exposes its app object (``expose_app_in_browser``),
so the test drives it with JupyterLab's own commands rather than by clicking menus.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser import CHROMIUM, needs_chromium
from conftest import REPO

from rlgrade.notebook import graded_cells, is_solution, nbgrader_meta, read_notebook

pytestmark = [pytest.mark.slow, needs_chromium]

ASSIGNMENT = "lesson_06"
ANSWERED = "reward_to_go"
QUESTIONS = ["reward_to_go", "reinforce_loss", "normalize_advantages", "softmax_policy_gradient", "gae",
             "gae_token_level"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def student_notebook(root: Path) -> Path:
    """The release notebook with the reference pasted into one solution cell, at ``root``."""
    source = REPO / "source" / ASSIGNMENT / "problem_set.ipynb"
    reference = {g.grade_id: g.reference_code for g in graded_cells(read_notebook(source), source)}
    nb = read_notebook(REPO / "release" / ASSIGNMENT / "problem_set.ipynb")
    assert [nbgrader_meta(c)["grade_id"] for c in nb.cells if is_solution(c)] == QUESTIONS
    for cell in nb.cells:
        if is_solution(cell) and nbgrader_meta(cell)["grade_id"] == ANSWERED:
            cell.source = reference[ANSWERED]
    path = root / "problem_set.ipynb"
    nbformat.write(nb, path)
    return path


def this_python_kernelspec(share: Path) -> None:
    """A "python3" kernelspec running this interpreter, found before any other (JUPYTER_PATH comes first)."""
    folder = share / "kernels" / "python3"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}))


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on a free localhost port: yields (base URL, token, root folder)."""
    root, jupyter = tmp_path / "root", tmp_path / "jupyter"
    root.mkdir()
    this_python_kernelspec(jupyter / "path")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_PATH": str(jupyter / "path"), "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
           "JUPYTER_DATA_DIR": str(jupyter / "data"), "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    env.pop("JPY_SESSION_NAME", None)
    log = (tmp_path / "jupyterlab.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--ServerApp.open_browser=False",
         "--allow-root"],  # --allow-root: CI containers may run as root
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, f"{base}/api/status?token={token}", tmp_path / "jupyterlab.log")
        yield base, token, root
    finally:
        stop(server)
        log.close()


def wait_until_up(server: subprocess.Popen, url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited ({server.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # our own server, on localhost
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    """SIGTERM (the server shuts its kernels down), then SIGKILL to its process group if it lingers."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.pid, signal.SIGKILL)  # its own group (start_new_session): kernels left behind too
    except ProcessLookupError:
        pass
    server.wait(timeout=10)


RUN_ALL = """async () => {
    const app = window.jupyterapp;
    const panel = app.shell.currentWidget;
    await panel.context.ready;
    await panel.sessionContext.ready;
    await app.commands.execute('notebook:run-all-cells');
    return panel.content.widgets.length;
}"""

KERNEL_IDLE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = panel.content.widgets;
    const last = cells[cells.length - 1];
    return kernel !== null && kernel !== undefined && kernel.status === 'idle'
        && last.model.executionCount !== null;
}"""


def test_run_all_shows_check_output_in_jupyterlab(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token, root = jupyterlab
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
    student_notebook(root)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                             "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(f"{base}/lab/tree/problem_set.ipynb?token={token}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.content"
                                   " && window.jupyterapp.shell.currentWidget.content.widgets.length > 0")
            cells = page.evaluate(RUN_ALL)
            try:
                page.wait_for_function(KERNEL_IDLE, timeout=300_000)  # the last cell ran and the kernel is idle
                output = page.locator(".jp-Notebook .jp-Cell").nth(cells - 1).locator(".jp-OutputArea")
                output.get_by_text("Public examples of problem_set.ipynb").wait_for()
                text = output.inner_text()
            except Exception:
                page.screenshot(path=str(root.parent / "jupyterlab.png"), full_page=True)  # next to the server log
                raise
        finally:
            browser.close()
    assert re.search(rf"PASS\s+{ANSWERED}\s+passed", text), text
    for question in QUESTIONS[1:]:
        assert re.search(rf"TODO\s+{question}\s+not implemented yet", text), text
    assert "1 of 6 question(s) pass their public examples." in text
    assert "Error" not in text and "Traceback" not in text, text
