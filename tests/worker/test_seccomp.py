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
    program = seccomp.build_program("x86_64", 1234)
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


SIGNAL_PROBE = """
import ctypes, os, resource, signal, sys
from rlgrade.worker import seccomp
parent = os.getppid()
os.setsid()  # alone in its process group, as a warm worker is
seccomp.install()
libc = ctypes.CDLL(None, use_errno=True)
def attempt(action):
    try:
        action()
        return "allowed"
    except OSError:
        return "blocked"
results = [
    attempt(lambda: os.kill(parent, 0)),
    attempt(lambda: os.kill(-1, 0)),
    attempt(lambda: resource.prlimit(parent, resource.RLIMIT_AS)),
    attempt(lambda: os.pidfd_open(parent)),
    "blocked" if libc.syscall(234, parent, parent, 0) < 0 else "allowed",  # tgkill
    "blocked" if libc.semget(0, 1, 0o1600) < 0 else "allowed",
    "blocked" if libc.syscall(248, b"user", b"k", b"v", 1, -4) < 0 else "allowed",  # add_key to @s
    "blocked" if libc.unshare(0x10000000) < 0 else "allowed",  # CLONE_NEWUSER: root again, mounts
    attempt(lambda: os.kill(os.getpid(), 0)),
    attempt(lambda: os.kill(0, 0)),
    attempt(lambda: resource.prlimit(0, resource.RLIMIT_AS)),
    attempt(lambda: signal.pthread_kill(__import__("threading").get_ident(), 0)),
]
print(",".join(results))
"""


def test_filter_reaches_no_other_process_and_leaves_no_kernel_objects_behind():
    """kill/tgkill/prlimit on another pid, pidfds, semaphores, keyrings and new namespaces are refused; the
    worker may still signal and limit itself (Python's own signal handling needs that)."""
    out = subprocess.run([sys.executable, "-c", SIGNAL_PROBE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().split(",") == ["blocked"] * 8 + ["allowed"] * 4
