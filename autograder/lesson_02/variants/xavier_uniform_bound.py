"""Known mistakes in ``xavier_uniform_bound`` and independent correct rewrites."""

import math

import torch

from rlgrade.testing import misconception, rewrite


@misconception("xavier_uniform_bound", "uses fan_in only: gain * sqrt(6 / fan_in) (He/LeCun-style)")
def fan_in_only(fan_in, fan_out, gain=1.0):
    return gain * math.sqrt(6.0 / fan_in)


@misconception("xavier_uniform_bound", "returns the standard deviation gain * sqrt(2 / (fan_in + fan_out)), not the bound")
def returns_std(fan_in, fan_out, gain=1.0):
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


@misconception("xavier_uniform_bound", "puts the gain inside the square root: sqrt(6 gain / (fan_in + fan_out))")
def gain_inside_root(fan_in, fan_out, gain=1.0):
    return math.sqrt(6.0 * gain / (fan_in + fan_out))


@misconception("xavier_uniform_bound", "precedence slip: sqrt(6 / fan_in + fan_out)")
def precedence_slip(fan_in, fan_out, gain=1.0):
    return gain * math.sqrt(6 / fan_in + fan_out)


@misconception("xavier_uniform_bound", "integer division 6 // (fan_in + fan_out): 0 for any layer wider than 3")
def floor_division(fan_in, fan_out, gain=1.0):
    return gain * math.sqrt(6 // (fan_in + fan_out))


@misconception("xavier_uniform_bound", "returns a 0-dim tensor (torch.sqrt) instead of a Python float")
def returns_tensor(fan_in, fan_out, gain=1.0):
    return gain * torch.sqrt(torch.tensor(6.0 / (fan_in + fan_out), dtype=torch.float64))


@rewrite("xavier_uniform_bound", "sqrt(3) times the Glorot standard deviation gain * sqrt(2 / (fan_in + fan_out))")
def sqrt3_times_std(fan_in, fan_out, gain=1.0):
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return math.sqrt(3.0) * std


@rewrite("xavier_uniform_bound", "a power instead of math.sqrt, and float() of a float64 tensor computation")
def power_and_tensor(fan_in, fan_out, gain=1.0):
    variance = torch.tensor(gain, dtype=torch.float64) ** 2 * 2 / (fan_in + fan_out)
    return float((3 * variance) ** 0.5)
