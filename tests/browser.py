"""Open a page in real headless Chromium (Debian's `chromium`): its DOM after scripts ran,
console messages (errors included: uncaught exceptions are logged there), and a screenshot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Skipped only on a developer machine without Chromium; in CI (CI=true) they run, and fail loudly.
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                    reason="chromium is not installed (scripts/setup.sh installs it)")


@dataclass(frozen=True)
class PageLoad:
    dom: str
    console: list[str]
    """Every console message the page produced (a clean page produces none)."""
    screenshot: Path


def load_page(page: Path, workdir: Path, *, width: int = 1280, height: int = 2400) -> PageLoad:
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed: run scripts/setup.sh")
    url = Path(page).resolve().as_uri()
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            f"--user-data-dir={workdir / 'chromium-profile'}", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=2000"]
    dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
    screenshot = workdir / (Path(page).stem + ".png")
    shot = subprocess.run(base + [f"--screenshot={screenshot}", f"--window-size={width},{height}", url],
                          capture_output=True, text=True, timeout=120, check=True)
    console = [line for line in (dom.stderr + shot.stderr).splitlines() if re.search(r":CONSOLE[:(]", line)]
    return PageLoad(dom.stdout, console, screenshot)
