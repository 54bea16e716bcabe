"""Hidden tests for ``causal_mask``: a bool [T, T] mask, True where key j <= query i."""

import pytest
import torch

from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("causal_mask")

SIZES = (1, 2, 3, 4, 5, 8, 13)


def as_allowed(got: object, T: int) -> torch.Tensor:
    """The student's mask read as True/False (a 0/1 float mask reads the same), after a type check."""
    if not isinstance(got, torch.Tensor):
        raise AssertionError(f"causal_mask({T}) should return a tensor, got {type(got).__name__}: {got!r}")
    return got if got.dtype == torch.bool else got != 0


@pytest.mark.points(3)
def test_lower_triangle_with_diagonal(student):
    """mask[i, j] is True exactly where j <= i (diagonal allowed, future blocked), for several T."""
    for T in SIZES:
        got = as_allowed(student.causal_mask(T), T)
        assert_close(got, ref.causal_mask(T), what=f"causal_mask({T}) read as allowed/blocked", inputs={"T": T})


@pytest.mark.points(1)
def test_returns_a_bool_tensor(student):
    """The mask is a bool tensor (True = attention allowed), not a 0/1 or additive float mask."""
    for T in (2, 4):
        got = student.causal_mask(T)
        if isinstance(got, torch.Tensor) and got.dtype != torch.bool:
            raise AssertionError(f"causal_mask({T}) has dtype {got.dtype}; it must be torch.bool (True = allowed)")
        assert_close(got, ref.causal_mask(T), what=f"causal_mask({T})", inputs={"T": T})


@pytest.mark.points(1)
def test_row_i_sees_the_first_i_plus_1_keys(student):
    """For T = 64, row i allows exactly keys 0..i: i + 1 of them, the diagonal included."""
    T = 64
    got = as_allowed(student.causal_mask(T), T)
    assert_close(tuple(got.shape), (T, T), what="the shape of causal_mask(64)", inputs={"T": T})
    counts = got.to(torch.int64).sum(dim=1)
    assert_close(counts, torch.arange(1, T + 1), what="the number of allowed keys in each row", inputs={"T": T})
    assert_close(got, ref.causal_mask(T), what="causal_mask(64)", inputs={"T": T})


@pytest.mark.points(1)
def test_single_position(student):
    """T = 1 gives [[True]]: a position always attends to itself."""
    assert_close(student.causal_mask(1), torch.tensor([[True]]), what="causal_mask(1)", inputs={"T": 1})
