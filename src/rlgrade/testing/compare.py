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


class Mismatch(AssertionError):
    """A failed comparison; ``detail`` keeps its parts for the TA review (never shown to students)."""

    def __init__(self, message: str, detail: dict):
        super().__init__(message)
        self.detail = detail


def tolerance_for(dtype: torch.dtype) -> tuple[float, float]:
    """Default (rtol, atol) for comparing results of this dtype."""
    return TOLERANCES.get(dtype, (0.0, 0.0))


def largest_abs(*tensors: torch.Tensor) -> float:
    """max |x| over all the given tensors (0 for empty ones)."""
    return max((float(t.detach().double().abs().max()) for t in tensors if t.numel()), default=0.0)


def rounding_atol(dtype: torch.dtype, magnitude: float, gain: float = 1.0) -> float:
    """Absolute tolerance for a result computed from inputs as large as ``magnitude``.

    Equivalent forms (``x - logsumexp(x)`` or ``(x - max) - log(sum(exp(x - max)))``) round differently: each
    operation on numbers of size ``magnitude`` may be off by eps * magnitude, and the result moves by ``gain``
    per unit of input error. Never below the dtype's default atol.
    """
    eps = torch.finfo(dtype).eps
    return max(tolerance_for(dtype)[1], 8.0 * eps * float(magnitude) * float(gain))


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
            fail(f"{what} should be a tuple of {len(expected)} values, got {short(got)}", inputs,
                 kind="wrong structure", what=what, expected=short(expected), got=short(got))
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_close(g, e, rtol=rtol, atol=atol, what=f"{what}[{i}]", inputs=inputs, check_dtype=check_dtype)
    elif isinstance(expected, float):
        if type(got) not in (float, int):
            fail(f"{what} should be a Python float, got {type(got).__name__}: {short(got)}", inputs,
                 kind=f"returns {type(got).__name__} instead of float", what=what, expected=repr(expected), got=short(got))
        r = 1e-7 if rtol is None else rtol
        a = 1e-9 if atol is None else atol
        if not numbers_close(float(got), expected, r, a):
            fail(f"{what}: expected {expected!r}, got {got!r} (rtol={r:g}, atol={a:g})", inputs,
                 kind=value_kind(torch.tensor([float(got)]), torch.tensor([expected])), what=what,
                 expected=repr(expected), got=repr(got), rtol=r, atol=a)
    elif not plainly_equal(got, expected):
        fail(f"{what}: expected {short(expected)}, got {short(got)}", inputs,
             kind="wrong value", what=what, expected=short(expected), got=short(got))


def plainly_equal(got: object, expected: object) -> bool:
    """``got == expected`` for anything else (ints, strings, None, dicts), as a plain bool.

    A comparison that cannot give one is a mismatch, not an error: a tensor where an int is
    expected (or a dict holding tensors) makes ``==`` elementwise and ``bool()`` raise, and the
    diagnosis compares a student's value against references this way too, where an escaping
    exception broke the whole hidden-test run of the submission.
    """
    try:
        return bool(got == expected)
    except Exception:  # noqa: BLE001
        return False


def numbers_close(a: float, b: float, rtol: float, atol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


def check_tensor(got, expected, rtol, atol, what, inputs, check_dtype) -> None:
    if not isinstance(got, torch.Tensor):
        fail(f"{what} should be a tensor of shape {tuple(expected.shape)}, got {type(got).__name__}: {short(got)}", inputs,
             kind=f"returns {type(got).__name__} instead of a tensor", what=what, expected=short(expected), got=short(got))
    if tuple(got.shape) != tuple(expected.shape):
        fail(f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}", inputs,
             kind="wrong shape", what=what, expected=f"shape {tuple(expected.shape)}", got=f"shape {tuple(got.shape)}")
    if check_dtype and got.dtype != expected.dtype:
        fail(f"{what} has dtype {got.dtype}, expected {expected.dtype} (keep the input dtype)", inputs,
             kind=f"returns {str(got.dtype).removeprefix('torch.')} for {str(expected.dtype).removeprefix('torch.')}",
             what=what, expected=str(expected.dtype), got=str(got.dtype))
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
             f"  expected: {short(expected)}\n  got:      {short(got)}", inputs,
             kind=value_kind(g[bad], e[bad]) if expected.is_floating_point() else "wrong values",
             what=what, index=list(index), expected=short(expected), got=short(got),
             expected_at=repr(e[index].item()), got_at=repr(g[index].item()), rtol=rtol, atol=atol,
             differing=int(bad.sum()), total=bad.numel())


def value_kind(got: torch.Tensor, expected: torch.Tensor) -> str:
    """The shape of a numeric error, for grouping students who fail the same way."""
    got, expected = got.to(torch.float64), expected.to(torch.float64)
    finite = torch.isfinite(expected)
    if (torch.isnan(got) & finite).any():
        return "NaN where a finite value is expected"
    if (torch.isinf(got) & finite).any():
        return "infinite where a finite value is expected (overflow?)"
    if not finite.all() or not torch.isfinite(got).all():
        return "finite where NaN/inf is expected"
    if (got == 0).all():
        return "zero where a nonzero value is expected"
    if got.numel() < 2:  # one number: any error is a factor and an offset at once
        return "wrong value"
    if torch.allclose(got, -expected, rtol=1e-6, atol=1e-12):
        return "wrong sign"
    nonzero = expected.abs() > 1e-12
    if nonzero.all():
        ratio = got / expected
        if torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-6):
            return "off by a constant factor"
    shift = got - expected
    if torch.allclose(shift, shift[0].expand_as(shift), rtol=1e-6, atol=1e-12):
        return "off by a constant"
    return "wrong values"


def fail(message: str, inputs: dict | None, **detail) -> None:
    __tracebackhide__ = True
    detail["inputs"] = {k: short(v) for k, v in (inputs or {}).items()}
    raise Mismatch(message + describe_inputs(inputs), detail)
