"""Loops forever inside add_one with termination signals ignored; scale is correct (3 points)."""
# earns: 3
# message: did not return within 3 s
import signal

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
    signal.signal(sig, signal.SIG_IGN)


def add_one(x):
    while True:
        pass


def scale(x, k=2.0):
    return k * x
