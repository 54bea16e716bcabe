"""Returns NaN, infinities and Python NaN floats where numbers are expected."""
# earns: 0
import torch


def add_one(x):
    return torch.full_like(x, float("nan"))


def scale(x, k=2.0):
    out = torch.full_like(x, float("inf"))
    out[::2] = float("-inf")
    return out
