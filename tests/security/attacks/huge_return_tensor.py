"""Returns huge tensors: a 10^12-element stride-0 view (no memory until copied) and a 10^9-element bool tensor (1
GB, left unfilled so that it is cheap to make).
"""
# earns: 0
# message: could not send the result back
import torch


def add_one(x):
    return torch.zeros(1).expand(10**12)


def scale(x, k=2.0):
    return torch.empty(10**9, dtype=torch.bool)
