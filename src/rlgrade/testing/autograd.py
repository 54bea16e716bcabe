"""The reference side of gradient checks, computed exactly as the worker computes the student's."""

from __future__ import annotations

from typing import Callable

import torch

from rlgrade.worker.server import gradients, mark_grad_inputs


def reference_grad(fn: Callable, args: tuple = (), kwargs: dict | None = None, *, wrt: list, output: int | None = None,
                   cotangent: torch.Tensor | None = None) -> tuple[object, tuple[torch.Tensor, ...]]:
    """``(value, grads)`` of ``<fn(...)[output], cotangent>`` w.r.t. ``wrt`` (positions or keyword names)."""
    args, kwargs = list(args), dict(kwargs or {})
    leaves = mark_grad_inputs(args, kwargs, list(wrt))
    value = fn(*args, **kwargs)
    grads = gradients(value, leaves, output, cotangent)
    detach = lambda v: v.detach() if isinstance(v, torch.Tensor) else v  # noqa: E731
    value = tuple(detach(v) for v in value) if isinstance(value, tuple) else detach(value)
    return value, tuple(grads)
