"""Ends the worker with os._exit(0) inside add_one; scale is correct and earns its 3 points."""
# earns: 3
# message: exited with status 0
import os


def add_one(x):
    os._exit(0)


def scale(x, k=2.0):
    return k * x
