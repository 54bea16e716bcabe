import subprocess
import sys

import pytest

from rlgrade.worker import seccomp

pytestmark = pytest.mark.skipif(not seccomp.supported(), reason="no seccomp program for this architecture")

PROBE = """
import os, subprocess, threading
from rlgrade.worker import seccomp
seccomp.install()
t = threading.Thread(target=lambda: None); t.start(); t.join()
results = []
for attempt in (os.fork, lambda: subprocess.run(["true"]), lambda: os.execv("/bin/true", ["true"])):
    try:
        attempt()
        results.append("allowed")
    except OSError:
        results.append("blocked")
print(",".join(results))
"""


def test_filter_blocks_fork_subprocess_and_exec_but_not_threads():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "blocked,blocked,blocked"


def test_clone_rule_checks_the_thread_flag():
    program = seccomp.build_program("x86_64")
    jset = [ins for ins in program if ins[0] == seccomp.JSET_K]
    assert len(jset) == 1 and jset[0][3] == seccomp.CLONE_THREAD
