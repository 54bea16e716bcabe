"""Calls sys.exit(0) while loading (after defining wrong functions), hoping the grader reads a clean exit as
success.
"""
# earns: 0
import sys


def add_one(x):
    return x - 7


sys.exit(0)
