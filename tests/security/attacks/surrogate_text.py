"""Raises exceptions whose (qualified) class name and message hold lone surrogates and NUL bytes (text that UTF-8
databases refuse), while loading and in add_one, and writes NUL bytes to stdout; scale is correct (3 points).
"""
# earns: 3
import os

EVIL = "\udcff\x00\ud800"
class Evil(Exception):
    pass


Evil.__qualname__ = "Evil" + EVIL  # what tracebacks print (a class __name__ must be valid UTF-8)
os.write(1, b"nul\x00byte\n")


def add_one(x):
    raise Evil("add_one says " + EVIL)


def scale(x, k=2.0):
    return k * x


raise Evil("loading says " + EVIL)
