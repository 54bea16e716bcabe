"""Loops forever while loading, with the usual termination signals ignored."""
# earns: 0
# status: error
# message: did not finish within 3 s
import signal

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
    signal.signal(sig, signal.SIG_IGN)


def add_one(x):
    return x + 1


while True:
    pass
