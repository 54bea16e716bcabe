"""Callables that hidden tests may pass to a student's function across the sandbox.

Some graded functions take a function as an argument (conjugate gradient takes a
matrix-vector product, a line search takes a loss). Code cannot cross the trust
boundary, so a test passes one of these families instead: a frozen dataclass whose
fields are tensors or numbers. The codec sends it by value (family name + fields)
and the worker rebuilds the same object, so the student's code calls plain torch
on both sides of the boundary.

This module runs inside the sandbox: standard library and torch only, no I/O.
To add a family: a frozen dataclass with tensor/number fields and ``__call__``,
registered with :func:`family`.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

FAMILIES: dict[str, type] = {}


def family(cls: type) -> type:
    """Register ``cls`` (a frozen dataclass) as a callable the codec may send."""
    if not (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen):
        raise TypeError(f"{cls.__name__} must be a frozen dataclass")
    FAMILIES[cls.__name__] = cls
    return cls


@family
@dataclasses.dataclass(frozen=True)
class MatVec:
    """v ↦ A v (e.g. a Fisher matrix or an SPD system matrix for conjugate gradient)."""

    A: torch.Tensor

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        return self.A @ v


@family
@dataclasses.dataclass(frozen=True)
class QuadraticLoss:
    """x ↦ ½ xᵀA x + bᵀx + c, a 0-dim tensor (convex when A is positive semi-definite)."""

    A: torch.Tensor
    b: torch.Tensor
    c: float = 0.0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x @ (self.A @ x) + self.b @ x + self.c


@family
@dataclasses.dataclass(frozen=True)
class LogisticLoss:
    """w ↦ mean binary cross-entropy of the logits X w against labels y in {0, 1}."""

    X: torch.Tensor
    y: torch.Tensor

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(self.X @ w, self.y.to(w.dtype))


@family
@dataclasses.dataclass(frozen=True)
class SoftmaxPolicyKL:
    """θ ↦ mean over rows of KL(π_old ‖ π_θ) for a linear softmax policy.

    Logits are X Wᵀ with W = θ.view(n_actions, D); the old policy uses theta_old.
    Its Hessian at θ = theta_old is the policy's Fisher information matrix.
    """

    X: torch.Tensor
    theta_old: torch.Tensor
    n_actions: int

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        old = torch.log_softmax(self.X @ self.theta_old.view(self.n_actions, -1).T, dim=-1)  # (N, A)
        new = torch.log_softmax(self.X @ theta.view(self.n_actions, -1).T, dim=-1)
        return (old.exp() * (old - new)).sum(-1).mean()
