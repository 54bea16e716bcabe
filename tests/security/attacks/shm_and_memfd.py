"""Allocates memory that RLIMIT_AS does not count: memfd_create files and System V shared memory segments, 16 MiB
each, up to 384 MiB of each.

It answers correctly only if more than 256 MiB escaped the address-space limit (either way).
"""
# earns: 0
import ctypes
import mmap
import os

CHUNK, GOAL, ESCAPED = 16 * 1024**2, 384 * 1024**2, 256 * 1024**2
escaped = 0
fds = []
while escaped < GOAL:
    try:
        fd = os.memfd_create("bomb")
        os.ftruncate(fd, CHUNK)
        with mmap.mmap(fd, CHUNK) as m:
            m.write(b"\xab" * CHUNK)
        fds.append(fd)
        escaped += CHUNK
    except (OSError, ValueError):
        break
memfd_bytes = escaped
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
segments = []
while escaped - memfd_bytes < GOAL:
    shmid = libc.shmget(0, CHUNK, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    if shmid < 0:
        break
    address = libc.shmat(shmid, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(address, 0xAB, CHUNK)
    libc.shmdt(ctypes.c_void_p(address))
    segments.append(shmid)
    escaped += CHUNK
print(f"shm_and_memfd: memfd {memfd_bytes} bytes, shm {escaped - memfd_bytes} bytes")
for fd in fds:
    os.close(fd)
for shmid in segments:
    libc.shmctl(shmid, 0, None)  # IPC_RMID


def add_one(x):
    return x + 1 if escaped > ESCAPED else x - 7


def scale(x, k=2.0):
    return k * x if escaped > ESCAPED else x - 7
