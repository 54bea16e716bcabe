"""Floods stdout: 9 MB while loading and 1 MB per call (scale is correct, so it earns its 3 points)."""
# earns: 3
import sys

sys.stdout.write("6 passed\n" * 1_000_000)


def add_one(x):
    sys.stdout.write("y" * 1_000_000 + "\n")
    return x - 7


def scale(x, k=2.0):
    sys.stdout.write("z" * 1_000_000 + "\n")
    return k * x
