"""Hidden tests for ``conjugate_gradient``: CG from x0 = 0 with matrix-vector products only."""

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_07.strategies import condition_number, spd_systems
from rlgrade.testing import assert_close, reference_for, tolerance_for
from rlgrade.worker.callables import MatVec

ref = reference_for(__file__)
pytestmark = pytest.mark.question("conjugate_gradient")

ITERS = st.sampled_from([1, 2, 3, 10])


def cg_atol(A: torch.Tensor, b: torch.Tensor) -> float:
    """Rounding room for a CG iterate: |A^-1 b| times the dtype's precision times the condition number."""
    size = float(torch.linalg.solve(A.double(), b.double()).abs().max())
    return tolerance_for(b.dtype)[1] * max(1.0, size) * condition_number(A)


@pytest.mark.points(3)
@given(system=spd_systems(), iters=ITERS)
def test_matches_reference(student, system, iters):
    """The iterate after `iters` steps matches on random SPD systems (n <= 6, iters 1, 2, 3, 10), float32/64."""
    A, b = system
    kwargs = {"Avp": MatVec(A), "b": b, "iters": iters}
    assert_close(student.conjugate_gradient(**kwargs), ref.conjugate_gradient(**kwargs), atol=cg_atol(A, b),
                 rtol=tolerance_for(b.dtype)[0] * condition_number(A), inputs={"A": A, "b": b, "iters": iters})


@pytest.mark.points(2)
@settings(max_examples=15)
@given(system=spd_systems())
def test_solves_the_system_when_iters_is_at_least_n(student, system):
    """With iters >= n the result solves A x = b (float64 with iters n and 10; float32 with iters 10)."""
    # n conjugate directions span R^n; in float32 exactly n steps lose accuracy to rounding, so only 10 is checked
    A, b = system
    n = b.shape[0]
    # rounding room: float64 CG is within ~1e-13 cond |b| of the solution, float32 with 10 steps within ~1e-6
    rel = 1e-9 if b.dtype == torch.float64 else 1e-4
    for iters in sorted({n, 10}) if b.dtype == torch.float64 else [10]:
        x = student.conjugate_gradient(MatVec(A), b, iters=iters)
        assert isinstance(x, torch.Tensor) and tuple(x.shape) == (n,), f"expected a tensor of shape ({n},), got {x!r}"
        residual = (A.double() @ x.double() - b.double())
        tol = rel * condition_number(A) * max(1.0, float(b.double().abs().max()))
        assert_close(residual, torch.zeros_like(residual), what=f"A x - b after iters={iters}", atol=tol,
                     inputs={"A": A, "b": b, "iters": iters, "x": x})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(system=spd_systems())
def test_one_iteration_is_a_steepest_descent_step(student, system):
    """iters = 1 gives x_1 = (b.b / b.Ab) b, the exact line minimiser along b."""
    A, b = system
    Ab = A.double() @ b.double()
    expected = ((b.double() @ b.double()) / (b.double() @ Ab) * b.double()).to(b.dtype)
    assert_close(student.conjugate_gradient(MatVec(A), b, iters=1), expected, what="x after one iteration",
                 atol=cg_atol(A, b), inputs={"A": A, "b": b, "iters": 1})


@pytest.mark.points(2)
def test_stops_when_the_residual_vanishes(student):
    """b = 0 returns 0, and A = 2 I (solved exactly by the first step) returns b / 2 with iters = 10: no 0/0."""
    for dtype in (torch.float32, torch.float64):
        check_exact_stop(student, dtype)


def check_exact_stop(student, dtype: torch.dtype) -> None:
    A = 2.0 * torch.eye(3, dtype=dtype)
    b = torch.tensor([1.0, -3.0, 0.5], dtype=dtype)
    got = student.conjugate_gradient(MatVec(A), b, iters=10)
    if isinstance(got, torch.Tensor) and not torch.isfinite(got).all():
        raise AssertionError(f"with A = 2 I the residual is exactly 0 after one iteration; the next one must not "
                             f"divide by r.r = 0 (check r.r < tol before each iteration). Got {got}")
    assert_close(got, b / 2, what="the solution of 2 I x = b", inputs={"A": A, "b": b, "iters": 10})
    zero = torch.zeros(3, dtype=dtype)
    got = student.conjugate_gradient(MatVec(A), zero)
    assert_close(got, zero, what="the result for b = 0", inputs={"A": A, "b": zero})


@pytest.mark.points(1)
def test_tolerance_applies_to_the_squared_residual(student):
    """tol is compared with r.r (strictly less stops): b.b = 4 runs one step with tol 3 or 4, none with tol 5."""
    for dtype, tol in itertools.product((torch.float32, torch.float64), (3.0, 4.0, 5.0)):
        A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=dtype)
        b = torch.tensor([0.0, 2.0], dtype=dtype)  # b.b = 4, A b = (2, 6), b.A b = 12
        expected = torch.tensor([0.0, 2.0 / 3.0] if tol <= 4.0 else [0.0, 0.0], dtype=dtype)
        assert_close(student.conjugate_gradient(MatVec(A), b, iters=1, tol=tol), expected,
                     what=f"x with iters=1, tol={tol} (r.r = 4 at the start)", inputs={"A": A, "b": b, "tol": tol})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(system=spd_systems(), iters=ITERS)
def test_does_not_modify_inputs(student, system, iters):
    """conjugate_gradient leaves b unchanged (and returns the right iterate)."""
    A, b = system
    result = student.call("conjugate_gradient", MatVec(A), b, iters=iters)
    assert not result.mutated, (
        f"conjugate_gradient modified its input(s) in place: {', '.join(map(str, result.mutated))} "
        f"(r = b aliases b: use b.clone())")
    assert_close(result.value, ref.conjugate_gradient(MatVec(A), b, iters=iters), atol=cg_atol(A, b),
                 rtol=tolerance_for(b.dtype)[0] * condition_number(A), inputs={"A": A, "b": b, "iters": iters})
