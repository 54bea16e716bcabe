"""Fills every writable filesystem it can find (/tmp, /, /dev, /dev/shm, its cwd) with many files, each under the
file-size limit.

tmpfs pages are memory that RLIMIT_AS does not count: unbounded, this takes the grading machine's RAM. It
stops at 384 MiB (enough to prove the point here) and answers correctly only if it wrote more than 256 MiB.
"""
# earns: 0
import os

CHUNK, GOAL, ESCAPED = 8 * 1024**2, 384 * 1024**2, 256 * 1024**2
block = b"\xab" * CHUNK
written = 0
for directory in ("/tmp", "/", "/dev", "/dev/shm", os.getcwd()):
    for i in range(GOAL // CHUNK):
        if written >= GOAL:
            break
        try:
            with open(os.path.join(directory, f"fill_{i}"), "wb") as f:
                f.write(block)
            written += CHUNK
        except OSError:
            break
print(f"fill_tmpfs wrote {written} bytes")
for directory in ("/tmp", "/", "/dev", "/dev/shm"):  # give it back before grading starts
    for i in range(GOAL // CHUNK):
        try:
            os.unlink(os.path.join(directory, f"fill_{i}"))
        except OSError:
            pass


def add_one(x):
    return x + 1 if written > ESCAPED else x - 7


def scale(x, k=2.0):
    return k * x if written > ESCAPED else x - 7
