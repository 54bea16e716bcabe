"""Start a worker for one submission and talk to it through the call interface.

The worker is a separate Python process inside bubblewrap: no network (all
namespaces unshared), a read-only view of the system and the Python installation
only (never the course: no ``solutions/``, ``autograder/``, gradebook or other
submissions), a private tmpfs, rlimits on memory, CPU time, file size and open files,
and a seccomp filter against new processes. The grader enforces wall-clock
deadlines per call; a worker that hangs or dies is killed and can be restarted.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import glob
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rlgrade.worker.codec import CodecError, decode, encode

WORKER_PACKAGE = Path(__file__).parent / "worker"
SANDBOX_ROOT = "/opt/rlgrade"
SHM_BYTES = 1024**2
BOOTSTRAP = """
import sys
sys.path.insert(0, {root!r})
import torch
{main}
"""
COLD_MAIN = """
from rlgrade_worker import seccomp, server
if {seccomp} and seccomp.supported():
    seccomp.install()
server.serve({read_fd}, {write_fd})
"""
ZYGOTE_MAIN = """
from rlgrade_worker import zygote
zygote.serve({control_fd}, scratch={scratch!r})
"""


def storable_text(text: str | None) -> str | None:
    """Text a submission chose, as any database stores it: no NUL bytes (PostgreSQL refuses
    them), no lone surrogates (not encodable as UTF-8)."""
    if text is None:
        return None
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


class SandboxError(RuntimeError):
    """The sandbox cannot be set up on this machine."""


class WorkerTimeout(Exception):
    """The worker did not answer within the deadline; it has been killed."""


class WorkerDied(Exception):
    """The worker process ended (crash, os._exit, resource limit)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker process."""

    memory_bytes: int = 4 * 1024**3
    """Address-space limit (RLIMIT_AS); torch alone maps about 0.5 GiB."""
    cpu_seconds: int = 120
    """CPU time for the whole worker (RLIMIT_CPU)."""
    file_bytes: int = 64 * 1024**2
    """Largest file the submission may write in its private tmpfs."""
    disk_bytes: int = 256 * 1024**2
    """All the submission may write: the size of its private /tmp (a tmpfs, so it is memory)."""
    open_files: int = 256
    """Open file descriptors."""
    call_seconds: float = 10.0
    """Wall-clock deadline for one call (or for loading the code)."""
    startup_seconds: float = 60.0
    """Wall-clock deadline for the worker to start (imports torch)."""
    output_bytes: int = 16 * 1024
    """How much of the submission's stdout/stderr is kept (the tail)."""
    gpu: bool = False
    """For GPU-marked tasks: the worker sees the NVIDIA devices (``/dev/nvidia*``) and has no
    address-space limit, since CUDA reserves far more address space than the machine has memory."""

    def __post_init__(self):
        for name in ("memory_bytes", "cpu_seconds", "file_bytes", "disk_bytes", "open_files", "call_seconds",
                     "startup_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be positive")


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def sandbox_available() -> bool:
    """True when bubblewrap can create the namespaces it needs here (probed once per process)."""
    bwrap = bwrap_path()
    if bwrap is None:
        return False
    probe = subprocess.run([bwrap, "--unshare-all", "--ro-bind", "/", "/", "true"], capture_output=True)
    return probe.returncode == 0


def readonly_paths() -> list[str]:
    """What the worker may see: the OS and the Python installation that has torch."""
    import torch  # noqa: PLC0415 - only to locate its installation

    candidates = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/alternatives",
                  sys.base_prefix, sys.prefix, str(Path(torch.__file__).parents[1])]
    seen: list[str] = []
    for path in candidates:
        real = os.path.realpath(path)
        if os.path.exists(path) and path not in seen:
            seen.append(path)
            if real != path and real not in seen:
                seen.append(real)
    return seen


def nvidia_devices() -> list[str]:
    """The NVIDIA driver's device files (``/dev/nvidia0``, ``/dev/nvidiactl``, ``/dev/nvidia-uvm``, ...)."""
    return sorted(glob.glob("/dev/nvidia*"))


def check_not_exposed(paths: list[str], secrets: list[Path]) -> None:
    for path in paths:
        for secret in secrets:
            if secret.resolve().is_relative_to(Path(path).resolve()):
                raise SandboxError(f"the sandbox would expose {secret} through {path}; move the course or the venv")


def sandbox_command(main: str, *, secrets: list[Path], limits: Limits = Limits()) -> list[str]:
    """bubblewrap running ``main`` (Python, with ``rlgrade_worker`` importable) in the sandbox."""
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxError("bubblewrap (bwrap) is not installed; install it (apt-get install bubblewrap) or pass --no-sandbox")
    paths = readonly_paths()
    check_not_exposed(paths, secrets)
    # Files on a tmpfs are memory that RLIMIT_AS does not count, and RLIMIT_FSIZE bounds only one
    # file: unsized, /tmp, / and /dev each took half the machine's RAM, a file at a time. So /tmp
    # is sized, /dev/shm (POSIX semaphores) is tiny, and / and /dev are read-only.
    # --cap-drop ALL: a grader run as root (containers, CI) otherwise hands the worker every
    # capability in its namespaces, and with them mount(2): it remounted the read-only /usr
    # read-write and wrote to the host, and could read a zygote's memory
    cmd = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
           "--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "OMP_NUM_THREADS", "1",
           "--proc", "/proc", "--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
           "--size", str(limits.disk_bytes), "--tmpfs", "/tmp", "--chdir", "/tmp"]
    for path in paths:
        cmd += ["--ro-bind", path, path]
    if limits.gpu:
        for device in nvidia_devices():
            cmd += ["--dev-bind", device, device]
    cmd += ["--ro-bind", str(WORKER_PACKAGE), f"{SANDBOX_ROOT}/rlgrade_worker", "--remount-ro", "/"]
    return cmd + [sys.executable, "-I", "-u", "-c", BOOTSTRAP.format(root=SANDBOX_ROOT, main=main)]


def unsandboxed_command(main: str) -> list[str]:
    code = BOOTSTRAP.format(root=str(WORKER_PACKAGE.parent), main=main.replace("rlgrade_worker", "rlgrade.worker"))
    return [sys.executable, "-I", "-u", "-c", code]


def apply_limits(limits: Limits):
    """The worker's rlimits, set in the child before it runs anything (``zygote.apply_limits``)."""
    from rlgrade.worker.zygote import apply_limits as set_rlimits  # noqa: PLC0415 - imports torch

    values = dataclasses.asdict(limits)
    return lambda: set_rlimits(values)


class Worker:
    """One running worker process and a framed, deadline-bound channel to it.

    Cold (the default), it is a fresh bubblewrap sandbox that imports torch (seconds). Given a
    ``zygote`` (the control socket of a :class:`Zygote`), it is forked from that warm sandbox
    instead (milliseconds), with the same isolation.
    """

    def __init__(self, *, limits: Limits = Limits(), sandbox: bool = True, secrets: list[Path] = (),
                 zygote: socket.socket | None = None):
        self.limits = limits
        self.sandbox = sandbox
        if zygote is not None:
            self.process, self._req_w, self._resp_r = spawn_warm(zygote, limits, sandbox)
        else:
            self.process, self._req_w, self._resp_r = start_cold(limits, sandbox, list(secrets))
        self.output: collections.deque[bytes] = collections.deque()
        self._output_size = 0
        self._drain = threading.Thread(target=self._drain_output, daemon=True)
        self._drain.start()
        ready = self._read(limits.startup_seconds)
        if not (isinstance(ready, dict) and ready.get("ready")):
            self.kill()
            raise WorkerDied("the worker did not start")

    def request(self, message: dict, timeout: float | None = None) -> object:
        """Send one request and wait for its response (raises WorkerTimeout / WorkerDied)."""
        frame = encode(message)
        try:
            os.write(self._req_w, len(frame).to_bytes(8, "little"))
            view = memoryview(frame)
            while view:
                view = view[os.write(self._req_w, view):]
        except (BrokenPipeError, OSError):
            raise WorkerDied(self.death_reason()) from None
        return self._read(timeout if timeout is not None else self.limits.call_seconds)

    def _read(self, timeout: float) -> object:
        deadline = time.monotonic() + timeout
        head = self._read_exactly(8, deadline)
        length = int.from_bytes(head, "little")
        try:
            if length > 64 * 1024 * 1024:
                raise CodecError(f"the worker sent a frame of {length} bytes")
            return decode(self._read_exactly(length, deadline))
        except CodecError:
            self.kill()
            raise

    def _read_exactly(self, n: int, deadline: float) -> bytes:
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._resp_r], [], [], max(left, 0))
            if not ready:
                self.kill()
                raise WorkerTimeout()
            chunk = os.read(self._resp_r, min(n - got, 1 << 20))
            if not chunk:
                reason = self.death_reason()
                self.kill()
                raise WorkerDied(reason)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _drain_output(self) -> None:
        for chunk in iter(lambda: self.process.stdout.read1(4096), b""):
            self.output.append(chunk)
            self._output_size += len(chunk)
            while self._output_size > self.limits.output_bytes and len(self.output) > 1:
                self._output_size -= len(self.output.popleft())

    def output_tail(self) -> str:
        return storable_text(b"".join(self.output)[-self.limits.output_bytes:].decode(errors="replace"))

    def death_reason(self) -> str:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        if isinstance(self.process, subprocess.Popen) and self.sandbox and code is not None and 128 < code < 128 + signal.NSIG:
            code = 128 - code  # bubblewrap exits with 128 + N when the worker is killed by signal N
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            hint = {"SIGXCPU": " (CPU time limit)", "SIGKILL": " (killed: memory or time limit)",
                    "SIGXFSZ": " (file size limit)", "SIGSEGV": " (a crash: e.g. unbounded recursion overflowing the stack)"}
            return f"the worker was killed by {name}{hint.get(name, '')}"
        return f"the worker exited with status {code}"

    def kill(self) -> None:
        if self.process.poll() is None:
            kill_process(self.process)
        # what the worker printed before it ended may still be in the pipe: read it all (the pipe is
        # at its end once the worker is gone), or output_tail() misses the last lines at random
        self._drain.join(timeout=2)
        for fd in (self._req_w, self._resp_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._req_w = self._resp_r = -1

    close = kill

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def start_cold(limits: Limits, sandbox: bool, secrets: list[Path]) -> tuple[subprocess.Popen, int, int]:
    """A new worker process (in a new bubblewrap sandbox): (process, request fd, response fd)."""
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    main = COLD_MAIN.format(seccomp=sandbox, read_fd=req_r, write_fd=resp_w)
    try:
        cmd = sandbox_command(main, secrets=secrets, limits=limits) if sandbox else unsandboxed_command(main)
        # bubblewrap's own pid 1 stays in the sandbox as the worker's parent, and its environment is
        # readable there (/proc/1/environ): --clearenv cleans only the worker's. So bwrap gets none of
        # the grader's environment (database URLs, tokens, ...).
        process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(req_r, resp_w), start_new_session=True, preexec_fn=apply_limits(limits),
            env={} if sandbox else None,
        )
    except BaseException:
        os.close(req_w)
        os.close(resp_r)
        raise
    finally:
        os.close(req_r)
        os.close(resp_w)
    return process, req_w, resp_r


def kill_process(process) -> None:
    """SIGKILL a worker and wait for it: a cold one's whole process group, a warm one via its monitor."""
    if isinstance(process, WarmProcess):
        process.kill()
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


# ---------------------------------------------------------------- warm workers

class ZygoteGone(Exception):
    """The zygote did not fork a worker (it died, or retired itself); start a cold one instead."""


class Zygote:
    """A warm worker factory: one sandbox with torch imported (``rlgrade.worker.zygote``).

    The grader keeps one per parallel slot, so that a sandbox holds one submission at a time;
    :attr:`control` goes to whichever process grades that slot's next submission.
    """

    def __init__(self, *, limits: Limits = Limits(), sandbox: bool = True, secrets: list[Path] = ()):
        self.limits = limits
        self.ready = False
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # a sandboxed zygote wipes its private /tmp between workers; an unsandboxed one shares the
        # machine's, so it wipes nothing
        main = ZYGOTE_MAIN.format(control_fd=theirs.fileno(), scratch=("/tmp", "/dev/shm") if sandbox else ())
        cmd = sandbox_command(main, secrets=list(secrets), limits=limits) if sandbox else unsandboxed_command(main)
        try:
            self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            pass_fds=(theirs.fileno(),), start_new_session=True,
                                            env={} if sandbox else None)
        finally:
            theirs.close()

    def wait_ready(self) -> None:
        """Block until the zygote has imported torch, once (raises ZygoteGone if it does not)."""
        if self.ready:
            return
        ready = receive_json(self.control, self.limits.startup_seconds)
        if not (isinstance(ready, dict) and ready.get("ready")):
            self.close()
            raise ZygoteGone("the zygote did not start")
        self.ready = True

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.control.close()
        if self.process.poll() is None:
            kill_process(self.process)


class ZygotePool:
    """One zygote per parallel slot. The first ``start`` slots' zygotes boot at once, side by side
    (the rest when their slot is first used); a dead one is replaced when its slot is next used.
    A slot whose zygote cannot start gets None: its submissions start cold workers."""

    def __init__(self, slots: int, *, limits: Limits = Limits(), sandbox: bool = True, secrets: list[Path] = (),
                 start: int | None = None):
        self.options = {"limits": limits, "sandbox": sandbox, "secrets": list(secrets)}
        booting = range(slots if start is None else min(start, slots))
        self.zygotes: list[Zygote | None] = [Zygote(**self.options) if slot in booting else None for slot in range(slots)]
        self.failed: set[int] = set()

    def control(self, slot: int) -> socket.socket | None:
        """The control socket for ``slot``'s next submission (None: start a cold worker)."""
        zygote = self.zygotes[slot]
        if slot in self.failed:
            return None
        if zygote is None or not zygote.alive():
            if zygote is not None:
                zygote.close()
            zygote = self.zygotes[slot] = Zygote(**self.options)
        try:
            zygote.wait_ready()
        except ZygoteGone:
            self.failed.add(slot)
            self.zygotes[slot] = None
            return None
        return zygote.control

    def close(self) -> None:
        for zygote in self.zygotes:
            if zygote is not None:
                zygote.close()

    def __enter__(self) -> "ZygotePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def receive_json(sock: socket.socket, timeout: float) -> object:
    if not select.select([sock], [], [], timeout)[0]:
        return None
    try:
        return json.loads(sock.recv(1 << 16) or b"null")
    except (OSError, ValueError):
        return None


def spawn_warm(control: socket.socket, limits: Limits, sandbox: bool) -> tuple["WarmProcess", int, int]:
    """Ask a zygote for a fresh worker: (process, request fd, response fd)."""
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    out_r, out_w = os.pipe()
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    nonce = os.urandom(8).hex()  # a reply left over from a grader killed mid-request is not ours
    request = {"op": "spawn", "id": nonce, "sandbox": sandbox, "limits": dataclasses.asdict(limits)}
    try:
        socket.send_fds(control, [json.dumps(request).encode()], [req_r, resp_w, out_w, theirs.fileno()])
        reply = None
        deadline = time.monotonic() + limits.startup_seconds
        while not (isinstance(reply, dict) and reply.get("id") == nonce) and time.monotonic() < deadline:
            reply = receive_json(control, deadline - time.monotonic())
            if reply is None:
                break
    except OSError as exc:
        reply = {"error": str(exc)}
    finally:
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        theirs.close()
    if not (isinstance(reply, dict) and reply.get("ok")):
        for fd in (req_w, resp_r, out_r):
            os.close(fd)
        mine.close()
        problem = reply.get("error") if isinstance(reply, dict) else "no answer"
        raise ZygoteGone(f"the zygote did not fork a worker: {problem}")
    return WarmProcess(mine, os.fdopen(out_r, "rb")), req_w, resp_r


class WarmProcess:
    """A forked worker as seen through its monitor: the parts of ``Popen`` that ``Worker`` uses."""

    def __init__(self, control: socket.socket, stdout):
        self.control = control
        self.stdout = stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.control], [], [], 0)[0]:
            self._receive()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self.control], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("warm worker", timeout)
            self._receive()
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                self.control.send(b"kill")
                self.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.returncode = -signal.SIGKILL  # closing the socket below makes the monitor kill it
        self.control.close()

    def _receive(self) -> None:
        """The monitor's report; a monitor that vanished without one counts as a kill."""
        try:
            report = json.loads(self.control.recv(256) or b"null")
            self.returncode = int(report["exit"])
        except (OSError, ValueError, TypeError, KeyError):
            self.returncode = -signal.SIGKILL
