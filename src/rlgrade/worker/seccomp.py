"""A seccomp filter that stops a submission from creating processes or exec'ing programs.

Fork bombs, ``subprocess``, ``os.system`` and ``ptrace`` all fail with EPERM once the
filter is installed, and so does signalling (or re-limiting) any process but the worker itself; new *threads* (clone with CLONE_THREAD) are still allowed, since
torch and Python need them. Memory that RLIMIT_AS stops counting once it is unmapped is
refused too: ``memfd_create`` files and System V shared memory and message queues (a loop
of 16 MiB segments, each mapped, filled and unmapped, took as much RAM as it liked). Kernel
objects that outlive the process (semaphores, POSIX message queues, keyrings) are refused,
so that nothing one submission leaves behind reaches the next one graded in the same sandbox.
So are new namespaces and mounts: in a new user namespace (``unshare``) a worker is root
again and could mount an unsized tmpfs, memory that no limit counts.
Installed by the worker after its own imports and before it runs any submitted code.
Namespaces and rlimits (``rlgrade.sandbox``) do the rest.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

# classic BPF opcodes
LD_ABS_W = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06

RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000

CLONE_THREAD = 0x00010000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

# offsets in struct seccomp_data
OFF_NR, OFF_ARCH, OFF_ARG0 = 0, 4, 16

ARCHES = {
    # machine: (AUDIT_ARCH, denied syscalls, clone, clone3)
    "x86_64": (0xC000003E, {"fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101,
                            "memfd_create": 319, "shmget": 29, "msgget": 68, "semget": 64, "mq_open": 240,
                            "add_key": 248, "request_key": 249, "keyctl": 250, "tkill": 200,
                            "pidfd_open": 434, "pidfd_send_signal": 424,
                            "process_vm_readv": 310, "process_vm_writev": 311,
                            "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
                            "chroot": 161, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
                            "fsmount": 432, "fspick": 433, "mount_setattr": 442}, 56, 435),
    "aarch64": (0xC00000B7, {"execve": 221, "execveat": 281, "ptrace": 117,
                             "memfd_create": 279, "shmget": 194, "msgget": 186, "semget": 190, "mq_open": 180,
                             "add_key": 217, "request_key": 218, "keyctl": 219, "tkill": 130,
                             "pidfd_open": 434, "pidfd_send_signal": 424,
                             "process_vm_readv": 270, "process_vm_writev": 271,
                             "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41,
                             "chroot": 51, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
                             "fsmount": 432, "fspick": 433, "mount_setattr": 442}, 220, 435),
}
# syscalls that take a pid and would reach another process of the same user (a warm worker's
# zygote and monitor are such processes): allowed on the worker itself only
SELF_ONLY = {
    # machine: {name: (number, whether 0 = "my own process group" is allowed too)}
    "x86_64": {"kill": (62, True), "tgkill": (234, False), "prlimit64": (302, True)},
    "aarch64": {"kill": (129, True), "tgkill": (131, False), "prlimit64": (261, True)},
}


def supported() -> bool:
    return platform.machine() in ARCHES


def build_program(machine: str, own_pid: int) -> list[tuple[int, int, int, int]]:
    """(code, jt, jf, k) instructions; jumps are relative, resolved from labels below."""
    arch, denied, clone_nr, clone3_nr = ARCHES[machine]
    eperm = RET_ERRNO | errno.EPERM
    # clone3 passes flags in a struct the filter cannot read: answer ENOSYS so that
    # glibc falls back to clone(), whose flags we can check.
    enosys = RET_ERRNO | errno.ENOSYS
    body: list[tuple] = [
        (LD_ABS_W, 0, 0, OFF_ARCH),
        (JEQ_K, 1, 0, arch),
        (RET_K, 0, 0, RET_KILL_PROCESS),
        (LD_ABS_W, 0, 0, OFF_NR),
        (JGE_K, "eperm", 0, 0x40000000),  # x32 ABI numbers
    ]
    body += [(JEQ_K, "eperm", 0, nr) for nr in denied.values()]
    body += [
        (JEQ_K, "enosys", 0, clone3_nr),
        (JEQ_K, "clone", 0, clone_nr),
    ]
    for nr, group_too in SELF_ONLY[machine].values():
        body.append((JEQ_K, "self_or_group" if group_too else "self", 0, nr))
    body += [
        (RET_K, 0, 0, RET_ALLOW),
        ("self_or_group",),
        (LD_ABS_W, 0, 0, OFF_ARG0),
        (JEQ_K, "allow", 0, 0),
        (JEQ_K, "allow", "eperm", own_pid),
        ("self",),
        (LD_ABS_W, 0, 0, OFF_ARG0),
        (JEQ_K, "allow", "eperm", own_pid),
        ("clone",),
        (LD_ABS_W, 0, 0, OFF_ARG0),
        (JSET_K, "allow", "eperm", CLONE_THREAD),
        ("allow",),
        (RET_K, 0, 0, RET_ALLOW),
        ("eperm",),
        (RET_K, 0, 0, eperm),
        ("enosys",),
        (RET_K, 0, 0, enosys),
    ]
    return resolve_labels(body)


def resolve_labels(body: list[tuple]) -> list[tuple[int, int, int, int]]:
    labels, position = {}, 0
    for item in body:
        if len(item) == 1:
            labels[item[0]] = position
        else:
            position += 1
    def offset(jump: int | str, position: int) -> int:
        return labels[jump] - position - 1 if isinstance(jump, str) else jump

    instructions = [item for item in body if len(item) == 4]
    return [(code, offset(jt, i), offset(jf, i), k) for i, (code, jt, jf, k) in enumerate(instructions)]


def install() -> None:
    """Apply the filter to this process and every thread it creates from now on."""
    program = build_program(platform.machine(), os.getpid())
    raw = b"".join(struct.pack("<HBBI", code, jt, jf, k) for code, jt, jf, k in program)
    buffer = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(program), ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")
