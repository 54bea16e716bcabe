"""Lesson-2 strategies: linear-layer batches, layer-norm inputs, gradient lists and Adam states.

Every batch is a dict keyed by the graded function's argument names, so a test calls
``student.layer_norm(**batch)``. Shapes stay small: coverage of cases, not size.
"""

from __future__ import annotations

import statistics

import torch
from hypothesis import strategies as st

from rlgrade.testing.compare import largest_abs, rounding_atol  # noqa: F401 - the tests import them from here
from rlgrade.testing.strategies import float_dtypes, floats, tensors

EPSILONS = st.sampled_from([1e-5, 1e-3, 0.1])
"""Layer-norm eps values: large ones make "eps inside vs outside the root" visible."""


@st.composite
def linear_batches(draw, *, dtype: torch.dtype | None = None, max_side: int = 4):
    """``{"x": [N, I], "W": [O, I], "grad_out": [N, O]}``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n, i, o = (draw(st.integers(1, max_side)) for _ in range(3))
    values = floats(-3.0, 3.0)
    return {"x": draw(tensors((n, i), dtype, values)), "W": draw(tensors((o, i), dtype, values)),
            "grad_out": draw(tensors((n, o), dtype, values))}


def _spread_enough(row: list[float]) -> bool:
    return statistics.pstdev(row) >= 0.5


@st.composite
def spread_rows(draw, n_rows: int, d: int):
    """``n_rows`` vectors of length ``d`` with population std >= 0.5 (well-conditioned normalisation).

    Near-constant rows are left out: their normalised values hinge on the last bits of a tiny variance, and
    two correct formulas (two-pass or E[x^2] - E[x]^2) would disagree there. Constant rows are tested apart.
    """
    row = st.lists(floats(-5.0, 5.0), min_size=d, max_size=d).filter(_spread_enough)
    return [draw(row) for _ in range(n_rows)]


@st.composite
def layer_norm_inputs(draw, *, dtype: torch.dtype | None = None, affine: bool = True):
    """``{"x": [..., D], "weight": [D], "bias": [D]}`` with 0-2 leading dims and 2 <= D <= 6."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    d = draw(st.integers(2, 6))
    n_rows = 1
    for side in lead:
        n_rows *= side
    rows = draw(spread_rows(n_rows, d))
    x = torch.tensor(rows, dtype=torch.float64).to(dtype).reshape(*lead, d)
    if affine:
        weight = draw(tensors((d,), dtype, floats(-2.0, 2.0)))
        bias = draw(tensors((d,), dtype, floats(-2.0, 2.0)))
    else:
        weight, bias = torch.ones(d, dtype=dtype), torch.zeros(d, dtype=dtype)
    return {"x": x, "weight": weight, "bias": bias}


GRAD_SHAPES = st.sampled_from([(), (1,), (3,), (2, 2), (1, 3), (3, 2)])


@st.composite
def gradient_lists(draw, *, dtype: torch.dtype | None = None, low: float = -5.0, high: float = 5.0):
    """A list of 1-4 gradient tensors of mixed shapes (0-dim included), one dtype."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shapes = draw(st.lists(GRAD_SHAPES, min_size=1, max_size=4))
    return [draw(tensors(shape, dtype, floats(low, high))) for shape in shapes]


MAX_NORMS = st.sampled_from([0.1, 0.5, 1.0, 5.0, 100.0])


def global_norm(grads: list[torch.Tensor]) -> float:
    """The global L2 norm, in float64, computed independently of any submission."""
    return float(torch.cat([g.detach().double().reshape(-1) for g in grads]).norm())


@st.composite
def adam_states(draw, *, dtype: torch.dtype | None = None, first_step: bool = False):
    """``{"param", "grad", "m", "v"}`` of one shape and dtype; v >= 0; m = v = 0 when ``first_step``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    state = {"param": draw(tensors(shape, dtype, floats(-5.0, 5.0))),
             "grad": draw(tensors(shape, dtype, floats(-3.0, 3.0)))}
    if first_step:
        state["m"], state["v"] = torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype)
    else:
        state["m"] = draw(tensors(shape, dtype, floats(-3.0, 3.0)))
        state["v"] = draw(tensors(shape, dtype, floats(0.0, 9.0)))
    return state


@st.composite
def adam_hyperparameters(draw, *, t: st.SearchStrategy[int] | None = None):
    """``{"t", "lr", "beta1", "beta2", "eps"}``: t is 1-based."""
    return {"t": draw(t if t is not None else st.one_of(st.integers(1, 10), st.sampled_from([100, 1000]))),
            "lr": draw(st.sampled_from([1e-3, 0.01, 0.1, 1.0])),
            "beta1": draw(st.sampled_from([0.0, 0.5, 0.9])),
            "beta2": draw(st.sampled_from([0.9, 0.99, 0.999])),
            "eps": draw(st.sampled_from([1e-8, 1e-3, 0.1]))}


def layer_norm_atol(x: torch.Tensor, weight: torch.Tensor | None = None) -> float:
    """Rounding room for layer_norm: a one-pass variance E[x^2] - E[x]^2 loses about eps * max|x|^2 / var.

    Both that form and the two-pass form are correct; on the well-spread rows the tests draw, their
    difference stays within this bound (times the largest |weight|).
    """
    x64 = x.detach().double()
    var = x64.var(dim=-1, unbiased=False)
    spread = float(var.min()) if var.numel() else 1.0
    gain = max(1.0, largest_abs(weight)) if weight is not None else 1.0
    return rounding_atol(x.dtype, largest_abs(x64) ** 2 / max(spread, 1e-12), gain=gain)
