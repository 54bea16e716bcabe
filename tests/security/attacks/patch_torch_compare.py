"""Monkeypatches torch's comparisons (allclose, isclose, equal, testing.assert_close, Tensor.__eq__/__ne__,
Tensor.allclose) to always agree, then returns wrong answers.
"""
# earns: 0
import torch
import torch.testing

torch.allclose = lambda *a, **k: True
torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
torch.Tensor.__eq__ = lambda a, b: torch.ones_like(a, dtype=torch.bool)
torch.Tensor.__ne__ = lambda a, b: torch.zeros_like(a, dtype=torch.bool)
torch.Tensor.allclose = lambda *a, **k: True
torch.Tensor.equal = lambda *a, **k: True
torch.Tensor.any = lambda *a, **k: torch.tensor(False)


def add_one(x):
    return x - 7


def scale(x, k=2.0):
    return x - 7
