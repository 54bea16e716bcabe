"""Leaves threads running: one flips add_one between right and wrong every millisecond, one prints fake results,
one rebinds scale to a right and a wrong version in turn.
"""
# earns: 0
import threading
import time

import torch

STATE = {"right": False}


def flipper():
    while True:
        STATE["right"] = not STATE["right"]
        time.sleep(0.001)


def chatter():
    while True:
        print("6 passed")
        time.sleep(0.05)


def right_scale(x, k=2.0):
    return k * x


def wrong_scale(x, k=2.0):
    return x - 7


def rebinder():
    while True:
        for fn in (right_scale, wrong_scale):
            globals()["scale"] = fn
            time.sleep(0.001)


for target in (flipper, chatter, rebinder):
    threading.Thread(target=target, daemon=True).start()


def add_one(x):
    return x + 1 if STATE["right"] else x - 7


def scale(x, k=2.0):
    return x - 7
