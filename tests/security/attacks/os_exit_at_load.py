"""Ends the worker with os._exit(0) while loading."""
# earns: 0
# status: error
# message: ended the worker
import os


def add_one(x):
    return x - 7


os._exit(0)
