"""Sleeps an hour inside add_one (and in the public check); scale sleeps well under the deadline and is correct
(3 points).
"""
# earns: 3
# message: did not return within 3 s
import time


def add_one(x):
    time.sleep(3600)
    return x + 1


def scale(x, k=2.0):
    time.sleep(0.05)
    return k * x
