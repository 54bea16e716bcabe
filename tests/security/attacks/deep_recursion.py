"""Unbounded recursion with the recursion limit lifted: 10^5 Python frames while loading, then C-level recursion
(str -> __str__) in add_one, which overflows the C stack; scale is correct (3 points).
"""
# earns: 3
# message: SIGSEGV
import sys

sys.setrecursionlimit(10**5 + 100)


def down(n):
    return down(n + 1) + 1


try:
    down(0)
except RecursionError:
    pass
sys.setrecursionlimit(10**8)


class Loop:
    def __str__(self):
        return str(Loop())


def add_one(x):
    return str(Loop())


def scale(x, k=2.0):
    return k * x
