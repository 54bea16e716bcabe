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


MEMORY_PROBE = """
import ctypes, os
from rlgrade.worker import seccomp
seccomp.install()
libc = ctypes.CDLL(None, use_errno=True)
results = []
try:
    os.memfd_create("x")
    results.append("allowed")
except OSError:
    results.append("blocked")
results.append("blocked" if libc.shmget(0, 4096, 0o1600) < 0 else "allowed")  # IPC_PRIVATE, IPC_CREAT | 0600
results.append("blocked" if libc.msgget(0, 0o1600) < 0 else "allowed")
print(",".join(results))
"""


def test_filter_blocks_memory_that_the_address_space_limit_does_not_count():
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "blocked,blocked,blocked"
