"""Returns aliases of its input: add_one returns x itself and adds 1 to it from a thread shortly after returning;
scale multiplies x in place and returns it (correct values: 3 points).
"""
# earns: 3
import threading
import time


def add_one(x):
    def later():
        time.sleep(0.01)
        x.add_(1)

    threading.Thread(target=later, daemon=True).start()
    return x


def scale(x, k=2.0):
    x.mul_(k)
    return x
