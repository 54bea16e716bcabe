"""Lesson-1 strategies (logits, classification and binary batches, optimiser states, logistic data) and checks.

Every batch is a dict keyed by the graded function's argument names, so a test calls
``student.cross_entropy(**batch)``. Shapes stay small: coverage of cases, not size.
"Large" inputs reach the numerical-stability bound of the problem set, |logits| = 1e4,
mixing huge and ordinary values in one slice (and slices of very different scales).
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from rlgrade.testing.compare import largest_abs, rounding_atol  # noqa: F401 - the tests import them from here
from rlgrade.testing.compare import describe_inputs
from rlgrade.testing.strategies import float_dtypes, floats, tensors

LARGE = 1e4
"""Largest |logit| the numerical-stability convention asks for."""


def large_logit_values() -> st.SearchStrategy[float]:
    """Huge logits of either sign, with ordinary ones mixed in (so that one slice spans ±1e4)."""
    return st.one_of(floats(-LARGE, -1e3), floats(1e3, LARGE), floats(-10.0, 10.0), st.sampled_from([LARGE, -LARGE]))


@st.composite
def shapes(draw, min_dims: int = 1, max_dims: int = 3, max_side: int = 4):
    return tuple(draw(st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims)))


@st.composite
def logits_and_dim(draw, *, large: bool = False, min_classes: int = 1, dtype: torch.dtype | None = None):
    """``{"x": logits, "dim": d}``: a 1-3-D tensor and a dimension (either sign) with >= min_classes entries."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shape = list(draw(shapes()))
    dim = draw(st.integers(0, len(shape) - 1))
    shape[dim] = draw(st.integers(max(min_classes, 1), 6))
    elements = large_logit_values() if large else floats(-20.0, 20.0)
    x = draw(tensors(tuple(shape), dtype, elements))
    if draw(st.booleans()):
        dim -= len(shape)  # the same dimension, counted from the end
    return {"x": x, "dim": dim}


@st.composite
def classification_batches(draw, *, large: bool = False, min_classes: int = 1, dtype: torch.dtype | None = None,
                           max_batch: int = 5, max_classes: int = 6):
    """``{"logits": [N, C], "targets": [N] int64}``."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n = draw(st.integers(1, max_batch))
    c = draw(st.integers(min_classes, max_classes))
    elements = large_logit_values() if large else floats(-20.0, 20.0)
    logits = draw(tensors((n, c), dtype, elements))
    targets = torch.tensor(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=torch.int64)
    return {"logits": logits, "targets": targets}


@st.composite
def binary_batches(draw, *, large: bool = False, soft: bool | None = None, dtype: torch.dtype | None = None,
                   logits: st.SearchStrategy[float] | None = None):
    """``{"logits", "targets"}`` of one shape (1-D or 2-D); targets hard 0/1 or soft in [0, 1] (drawn unless ``soft``)."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shape = draw(shapes(1, 2, 4))
    soft = draw(st.booleans()) if soft is None else soft
    elements = logits if logits is not None else (large_logit_values() if large else floats(-20.0, 20.0))
    x = draw(tensors(shape, dtype, elements))
    labels = floats(0.0, 1.0) if soft else st.sampled_from([0.0, 1.0])
    return {"logits": x, "targets": draw(tensors(shape, dtype, labels))}


@st.composite
def momentum_states(draw, *, dtype: torch.dtype | None = None):
    """``{"param", "grad", "velocity"}`` of one shape and dtype (velocity may be 0: a first step)."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shape = draw(shapes(1, 2, 4))
    velocity = (torch.zeros(shape, dtype=dtype) if draw(st.integers(0, 4)) == 0
                else draw(tensors(shape, dtype, floats(-5.0, 5.0))))
    return {"param": draw(tensors(shape, dtype)), "grad": draw(tensors(shape, dtype, floats(-5.0, 5.0))),
            "velocity": velocity}


LEARNING_RATES = st.sampled_from([0.0, 1e-3, 0.01, 0.1, 0.5, 1.0])
MOMENTA = st.sampled_from([0.0, 0.5, 0.9, 0.99])


@st.composite
def logistic_data(draw, *, dtype: torch.dtype | None = None, large: bool = False, max_n: int = 5, max_d: int = 4):
    """``{"X": [N, D], "y": [N] 0/1 labels, "w": [D]}``.

    ``large``: separable-data regime with scores 700 <= |x_n . w| <= ~1e4 (feature 0 carries a weight of
    1000-2000 and dominates the others), where sigmoid is exactly 0 or 1 in both dtypes.
    """
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n, d = draw(st.integers(1, max_n)), draw(st.integers(1, max_d))
    if large:
        def signed(low: float, high: float) -> st.SearchStrategy[float]:
            return st.one_of(floats(-high, -low), floats(low, high))

        X = draw(tensors((n, d), dtype, floats(-1.0, 1.0)))
        X[:, 0] = draw(tensors((n,), dtype, signed(1.0, 5.0)))
        w = draw(tensors((d,), dtype, floats(-100.0, 100.0)))
        w[0] = draw(signed(1000.0, 2000.0))
    else:
        X = draw(tensors((n, d), dtype, floats(-3.0, 3.0)))
        w = draw(tensors((d,), dtype, floats(-2.0, 2.0)))
    y = torch.tensor(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)), dtype=dtype)
    return {"X": X, "y": y, "w": w}


def assert_finite(got: object, expected: torch.Tensor, *, what: str, why: str, inputs: dict) -> None:
    """Fail with a message that says "not finite" (and why) where the exact result is finite but ``got`` is not."""
    __tracebackhide__ = True
    if not isinstance(got, torch.Tensor) or not got.is_floating_point() or tuple(got.shape) != tuple(expected.shape):
        return  # assert_close explains type and shape problems
    bad = ~torch.isfinite(got.detach()) & torch.isfinite(expected)
    if bad.any():
        index = tuple(int(i) for i in torch.nonzero(bad)[0].tolist())
        raise AssertionError(f"{what} is not finite: got {got.detach()[index].item()!r} at index {index} where the "
                             f"exact value is {expected[index].item()!r}. {why}" + describe_inputs(inputs))
