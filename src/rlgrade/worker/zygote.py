"""A warm worker factory: one sandbox with torch imported that forks a fresh worker per submission.

Starting a worker costs seconds (bubblewrap, Python, ``import torch``); forking one from a
process that has already paid that costs milliseconds. The zygote runs inside the same
bubblewrap sandbox as a cold worker and never runs submitted code itself. For each
``spawn`` request on its control socket (a SOCK_SEQPACKET socket to the grader, with the
new worker's four file descriptors attached) it:

1. waits until the previous worker is dead (at most one submission per sandbox at a time),
2. wipes ``/tmp`` and ``/dev/shm`` (so nothing one submission wrote reaches the next),
3. forks a *monitor*, which forks the *worker* and reports its exit status.

The worker closes every other descriptor (the control socket above all), sets its own
rlimits, becomes non-dumpable (no ``/proc/<pid>/mem`` of it or of the zygote for anyone
without CAP_SYS_PTRACE, which nobody in the sandbox has) and installs the seccomp filter,
which also refuses signalling or re-limiting any process but itself. Then it serves the
call interface exactly as a cold worker does (``server.serve``).

The monitor holds the worker's *control* socket: the grader writes ``kill`` to it (or
closes it, e.g. by dying), and the monitor answers with the worker's exit status once
the worker is gone. Standard library + torch only (this runs in the sandbox).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import socket
import stat

from . import seccomp, server

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
SCRATCH = ("/tmp", "/dev/shm")
PREVIOUS_WORKER_SECONDS = 10.0
"""How long the zygote waits for the previous worker to be gone before it stops it itself."""


def prctl(option: int, value: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def serve(control_fd: int, scratch: tuple[str, ...] = SCRATCH) -> None:
    """Answer ``spawn`` requests on ``control_fd`` until the grader closes it."""
    control = socket.socket(fileno=control_fd)
    server.warm_up()
    prctl(PR_SET_DUMPABLE, 0)
    control.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    previous: int | None = None
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        except OSError:
            break
        if not message:
            break
        request = json.loads(message.decode())
        if previous is not None:
            wait_or_stop(previous)
        problem = wipe_all(scratch) if len(fds) == 4 else f"expected 4 descriptors, got {len(fds)}"
        if problem:
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"id": request.get("id"), "ok": False, "error": problem}).encode())
            break  # the grader replaces a zygote that cannot clean up
        previous = os.fork()
        if previous == 0:
            control.close()
            monitor(*fds, limits=request["limits"], sandbox=request["sandbox"])
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"id": request.get("id"), "ok": True}).encode())


def wait_or_stop(monitor_pid: int) -> None:
    """Reap the previous monitor; one that is still watching a live worker after the grader
    moved on is killed (its worker dies with it: PR_SET_PDEATHSIG)."""
    pidfd = os.pidfd_open(monitor_pid)
    try:
        if not select.select([pidfd], [], [], PREVIOUS_WORKER_SECONDS)[0]:
            os.kill(monitor_pid, signal.SIGKILL)
        os.waitpid(monitor_pid, 0)
    finally:
        os.close(pidfd)


def wipe_all(directories: tuple[str, ...]) -> str | None:
    """Empty each directory; the reason if that failed (the zygote is then retired)."""
    keep = mounts_below(directories)
    for directory in directories:
        try:
            wipe(directory, keep)
            if [entry for entry in os.scandir(directory) if entry.path not in keep]:
                return f"{directory} is not empty after cleaning"
        except (OSError, RecursionError) as exc:
            return f"cannot clean {directory}: {exc}"
    return None


def mounts_below(directories: tuple[str, ...]) -> set[str]:
    """The read-only mounts inside the directories (a virtualenv under /tmp, bound by bubblewrap)
    and the folders bubblewrap made to hold them: what wiping leaves alone. Read from this
    process's mount table, which a worker cannot change (no capabilities, no mount calls)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as table:
        points = [line.split()[4] for line in table]
    keep = set()
    for point in points:
        for directory in directories:
            path = point
            while path.startswith(directory.rstrip("/") + "/"):
                keep.add(path)
                path = os.path.dirname(path)
    return keep


def wipe(directory: str, keep: set[str]) -> None:
    """Remove everything inside ``directory`` but ``keep``, whatever permissions a submission left."""
    os.chmod(directory, stat.S_IRWXU | (os.stat(directory).st_mode & 0o7777))
    for entry in os.scandir(directory):
        if entry.path in keep:
            if not os.path.ismount(entry.path):
                wipe(entry.path, keep)  # a folder on the way to a mount: empty it, keep it
        elif entry.is_dir(follow_symlinks=False):
            wipe(entry.path, keep)
            os.rmdir(entry.path)
        else:
            os.unlink(entry.path)


def monitor(req_r: int, resp_w: int, out_w: int, control_fd: int, *, limits: dict, sandbox: bool) -> None:
    """Fork the worker, wait for it (killing it on request), report its exit status; never returns."""
    control = socket.socket(fileno=control_fd)
    pid = os.fork()
    if pid == 0:
        control.close()
        worker(req_r, resp_w, out_w, limits, sandbox)
    for fd in (req_r, resp_w, out_w):
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    watching = [pidfd, control]
    while pidfd not in select.select(watching, [], [])[0]:
        try:
            request = control.recv(16)
        except OSError:
            request = b""
        os.kill(pid, signal.SIGKILL)  # "kill", or the grader closed the socket (it is done or dead)
        if not request:
            watching = [pidfd]
    _, status = os.waitpid(pid, 0)
    try:
        control.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
    except OSError:
        pass
    os._exit(0)


def worker(req_r: int, resp_w: int, out_w: int, limits: dict, sandbox: bool) -> None:
    """The forked worker: isolate this process, then serve the submission; never returns."""
    code = 1
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the monitor's death (or SIGKILL) ends the worker
        os.setsid()  # its own process group: kill(0, ...) reaches only itself
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        close_all_but(0, 1, 2, req_r, resp_w)  # above all the zygote's control socket
        apply_limits(limits)
        prctl(PR_SET_DUMPABLE, 0)
        os.chdir("/tmp" if sandbox else "/")
        if sandbox and seccomp.supported():
            seccomp.install()
        server.serve(req_r, resp_w, warm_up_first=False)
        code = 0
    finally:
        os._exit(code)


def close_all_but(*keep: int) -> None:
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, already closed


def apply_limits(limits: dict) -> None:
    """The same rlimits a cold worker gets from the grader (``rlgrade.sandbox.apply_limits``)."""
    for name, value, slack in (("RLIMIT_AS", limits["memory_bytes"], 0), ("RLIMIT_CPU", limits["cpu_seconds"], 5),
                               ("RLIMIT_FSIZE", limits["file_bytes"], 0), ("RLIMIT_NOFILE", limits["open_files"], 0),
                               ("RLIMIT_CORE", 0, 0)):
        if name == "RLIMIT_AS" and limits.get("gpu"):
            continue  # CUDA reserves tens of GiB of address space it never touches
        resource.setrlimit(getattr(resource, name), (value, value + slack))
