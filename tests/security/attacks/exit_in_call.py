"""Raises SystemExit(0) and KeyboardInterrupt inside calls."""
# earns: 0
import sys


def add_one(x):
    sys.exit(0)


def scale(x, k=2.0):
    raise KeyboardInterrupt
