"""Hidden tests for ``backtracking_line_search``: halve the step until the actual decrease is enough."""

import itertools

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_07.strategies import line_search_problems
from rlgrade.testing import assert_close, reference_for
from rlgrade.worker.callables import QuadraticLoss

ref = reference_for(__file__)
pytestmark = pytest.mark.question("backtracking_line_search")


def square(dtype: torch.dtype) -> QuadraticLoss:
    """f(x) = x^2 on R^1 (gradient 2x): along a step d from x = 1, fraction t is accepted iff its ratio
    actual / (expected t) = 1 + t d / 2 exceeds accept_ratio (and actual > 0)."""
    return QuadraticLoss(torch.tensor([[2.0]], dtype=dtype), torch.zeros(1, dtype=dtype), 0.0)


def check_result(got, expected: tuple, inputs: dict, what: str = "(accepted, x_new)") -> None:
    assert isinstance(got, tuple) and len(got) == 2, f"expected a tuple (accepted, x_new), got {got!r}"
    assert type(got[0]) is bool, f"accepted must be a Python bool (True / False), got {got[0]!r}"
    assert got[0] == expected[0], (f"accepted is {got[0]}, expected {expected[0]}: {what}\n  got x_new = {got[1]}\n"
                                   f"  inputs: {inputs}")
    assert_close(got[1], expected[1], what="x_new", inputs=inputs)


@pytest.mark.points(3)
@given(problem=line_search_problems())
def test_matches_reference(student, problem):
    """Flag and point match on quadratic and logistic losses with Newton or gradient steps that may overshoot."""
    check_result(student.backtracking_line_search(**problem), ref.backtracking_line_search(**problem), problem)


# (fullstep d from x = 1 on x^2, so expected_improve = -2 d; accept_ratio) -> the first acceptable fraction
DESIGNED = [
    (-1.0, 0.1, 1.0),       # the full step is accepted
    (-1.85, 0.1, 0.5),      # the full step improves, but its ratio is 0.075 < 0.1
    (-3.4, 0.1, 0.5),       # the half step's ratio is 0.15 (0.075 if expected is not scaled by the fraction)
    (-20.0, 0.1, 1 / 16),   # four halvings
    (-1.5, 0.5, 0.5),       # accept_ratio 0.5 rejects the full step's ratio 0.25
]
DTYPES = (torch.float32, torch.float64)


@pytest.mark.points(2)
def test_accepts_the_first_sufficient_fraction(student):
    """On f(x) = x^2 from x = 1, the first fraction 0.5^k with actual > 0 and actual / (expected 0.5^k) > ratio wins."""
    for dtype, (step, accept_ratio, fraction) in itertools.product(DTYPES, DESIGNED):
        kwargs = {"f": square(dtype), "x": torch.tensor([1.0], dtype=dtype),
                  "fullstep": torch.tensor([step], dtype=dtype), "expected_improve": -2.0 * step,
                  "accept_ratio": accept_ratio}
        expected = (True, torch.tensor([1.0 + fraction * step], dtype=dtype))
        check_result(student.backtracking_line_search(**kwargs), expected, kwargs,
                     what=f"the first acceptable fraction is {fraction}")


@pytest.mark.points(1)
def test_tries_exactly_max_backtracks_fractions(student):
    """Fractions 1, 1/2, ..., 0.5^(max_backtracks-1): a step first acceptable at 1/16 needs max_backtracks = 5."""
    for dtype in DTYPES:
        one_try = {"f": square(dtype), "x": torch.tensor([1.0], dtype=dtype),
                   "fullstep": torch.tensor([-1.0], dtype=dtype), "expected_improve": 2.0, "max_backtracks": 1}
        check_result(student.backtracking_line_search(**one_try), (True, torch.tensor([0.0], dtype=dtype)), one_try,
                     what="max_backtracks = 1 tries the full step (fraction 1), which is accepted here")
        kwargs = {"f": square(dtype), "x": torch.tensor([1.0], dtype=dtype),
                  "fullstep": torch.tensor([-20.0], dtype=dtype), "expected_improve": 40.0}
        check_result(student.backtracking_line_search(**kwargs, max_backtracks=5),
                     (True, torch.tensor([-0.25], dtype=dtype)), {**kwargs, "max_backtracks": 5},
                     what="fraction 1/16 = 0.5^4 is the 5th and last one tried")
        check_result(student.backtracking_line_search(**kwargs, max_backtracks=4),
                     (False, torch.tensor([1.0], dtype=dtype)), {**kwargs, "max_backtracks": 4},
                     what="with max_backtracks = 4 the smallest fraction tried is 1/8, which increases f")


@pytest.mark.points(1)
def test_rejected_search_returns_x(student):
    """When no fraction decreases f enough (here an uphill step), the result is (False, x) with x's values."""
    for dtype in DTYPES:
        f = QuadraticLoss(torch.tensor([[2.0, 0.0], [0.0, 4.0]], dtype=dtype), torch.tensor([1.0, -1.0], dtype=dtype),
                          3.0)
        x = torch.tensor([0.5, -1.5], dtype=dtype)
        kwargs = {"f": f, "x": x, "fullstep": torch.tensor([0.2, -0.4], dtype=dtype), "expected_improve": 1.0}
        check_result(student.backtracking_line_search(**kwargs), (False, x.clone()), kwargs,
                     what="every fraction of an uphill step increases f")


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=line_search_problems())
def test_does_not_modify_inputs(student, problem):
    """backtracking_line_search leaves x and fullstep unchanged (and returns the right result)."""
    result = student.call("backtracking_line_search", **problem)
    assert not result.mutated, (
        f"backtracking_line_search modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    check_result(result.value, ref.backtracking_line_search(**problem), problem)
