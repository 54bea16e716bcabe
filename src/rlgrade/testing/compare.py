"""Comparisons whose failure messages teach: where, expected vs got, and the tolerance."""

from __future__ import annotations

import math

import torch

TOLERANCES = {
    torch.float16: (1e-2, 1e-3),
    torch.bfloat16: (2e-2, 1e-2),
    torch.float32: (1e-4, 1e-5),
    torch.float64: (1e-7, 1e-9),
}


def tolerance_for(dtype: torch.dtype) -> tuple[float, float]:
    """Default (rtol, atol) for comparing results of this dtype."""
    return TOLERANCES.get(dtype, (0.0, 0.0))


def short(x: object, limit: int = 400) -> str:
    """A compact, bounded repr for messages."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        text = repr(x) if x.numel() <= 64 else f"tensor(shape={tuple(x.shape)}, dtype={x.dtype}, first={x.reshape(-1)[:8].tolist()}...)"
    else:
        text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_inputs(inputs: dict | None) -> str:
    if not inputs:
        return ""
    return "\n  inputs:\n" + "\n".join(f"    {k} = {short(v)}" for k, v in inputs.items())


def assert_close(got: object, expected: object, *, rtol: float | None = None, atol: float | None = None,
                 what: str = "the result", inputs: dict | None = None, check_dtype: bool = True) -> None:
    """Assert that ``got`` matches ``expected`` in type, structure, shape, dtype and value.

    NaN matches NaN and infinities match infinities of the same sign. Tolerances
    default by dtype (:data:`TOLERANCES`); the message names the first differing
    element, the tolerance and the inputs.
    """
    if isinstance(expected, torch.Tensor):
        check_tensor(got, expected, rtol, atol, what, inputs, check_dtype)
    elif isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            fail(f"{what} should be a tuple of {len(expected)} values, got {short(got)}", inputs)
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_close(g, e, rtol=rtol, atol=atol, what=f"{what}[{i}]", inputs=inputs, check_dtype=check_dtype)
    elif isinstance(expected, float):
        if type(got) not in (float, int):
            fail(f"{what} should be a Python float, got {type(got).__name__}: {short(got)}", inputs)
        r, a = (rtol, atol) if rtol is not None else (1e-7, 1e-9)
        if not numbers_close(float(got), expected, r, a if atol is None else atol):
            fail(f"{what}: expected {expected!r}, got {got!r} (rtol={r:g}, atol={a:g})", inputs)
    elif got != expected:
        fail(f"{what}: expected {short(expected)}, got {short(got)}", inputs)


def numbers_close(a: float, b: float, rtol: float, atol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


def check_tensor(got, expected, rtol, atol, what, inputs, check_dtype) -> None:
    if not isinstance(got, torch.Tensor):
        fail(f"{what} should be a tensor of shape {tuple(expected.shape)}, got {type(got).__name__}: {short(got)}", inputs)
    if tuple(got.shape) != tuple(expected.shape):
        fail(f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}", inputs)
    if check_dtype and got.dtype != expected.dtype:
        fail(f"{what} has dtype {got.dtype}, expected {expected.dtype} (keep the input dtype)", inputs)
    default_rtol, default_atol = tolerance_for(expected.dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if expected.is_floating_point():
        g, e = got.detach().to(torch.float64), expected.detach().to(torch.float64)
        bad = ~torch.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    else:  # bool and integer results must match exactly
        g, e = got.detach(), expected.detach().to(got.dtype)
        bad = g != e
    if bad.any():
        index = tuple(int(i) for i in torch.nonzero(bad)[0].tolist())
        first = f"at index {index}: expected {e[index].item()!r}, got {g[index].item()!r}"
        if g.is_floating_point():
            finite = torch.isfinite(g) & torch.isfinite(e)
            gap = (g - e).abs()[finite & bad]
            largest = f"; largest absolute difference {gap.max().item():.3g}" if gap.numel() else ""
        else:
            largest = ""
        fail(f"{what} differs from the expected values {first}\n"
             f"  {int(bad.sum())} of {bad.numel()} elements differ{largest} (rtol={rtol:g}, atol={atol:g})\n"
             f"  expected: {short(expected)}\n  got:      {short(got)}", inputs)


def fail(message: str, inputs: dict | None) -> None:
    __tracebackhide__ = True
    raise AssertionError(message + describe_inputs(inputs))
