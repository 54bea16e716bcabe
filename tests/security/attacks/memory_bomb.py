"""Tries to allocate far more than the memory limit: 8 GiB while loading, an 8 GB tensor and a 80 GB Python list
in add_one; scale is correct (3 points).
"""
# earns: 3
# message: memory
import torch

try:
    HOARD = bytearray(8 * 1024**3)
except MemoryError:
    HOARD = None


def add_one(x):
    if x.numel() % 2:
        return torch.ones(2_000_000_000).sum() + x
    return [0] * 10_000_000_000


def scale(x, k=2.0):
    return k * x
