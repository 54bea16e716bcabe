"""Hidden tests for ``pass_at_k``: 1 - C(n-c, k) / C(n, k), exact and finite for n up to 10 000."""

import pytest
from hypothesis import given

from autograder.lesson_10.strategies import exact_pass_at_k, pass_counts
from rlgrade.testing import assert_close

pytestmark = pytest.mark.question("pass_at_k")
RTOL, ATOL = 1e-6, 1e-12
"""The docstring's accuracy: a relative 1e-6 of the exact rational value (forms through lgamma keep ~9 digits)."""

LARGE = [(10_000, 1, 1), (10_000, 2, 2), (10_000, 1, 10_000), (10_000, 3, 5_000), (10_000, 5_000, 10),
         (10_000, 9_999, 1), (10_000, 100, 100), (10_000, 10, 9_990), (10_000, 9_990, 11), (9_973, 37, 250),
         (2_000, 1_000, 1_000), (10_000, 0, 5_000)]


def check_float(got: object, n: int, c: int, k: int) -> None:
    if type(got) is not float:
        raise AssertionError(f"pass_at_k should return a Python float, got {type(got).__name__}: {got!r}\n"
                             f"  inputs: n={n}, c={c}, k={k}")


@pytest.mark.points(3)
@given(counts=pass_counts())
def test_matches_exact_value(student, counts):
    """pass@k matches the exact rational 1 - C(n-c, k) / C(n, k) for n up to 200 (all c and k, edges included)."""
    n, c, k = counts
    got = student.pass_at_k(n, c, k)
    check_float(got, n, c, k)
    assert_close(got, exact_pass_at_k(n, c, k), rtol=RTOL, atol=ATOL, what=f"pass_at_k({n}, {c}, {k})",
                 inputs={"n": n, "c": c, "k": k})


@pytest.mark.points(3)
def test_large_n_is_finite_and_exact(student):
    """For n up to 10 000 the result is finite and matches the exact rational value (no overflowing binomials)."""
    for n, c, k in LARGE:
        got = student.pass_at_k(n, c, k)
        check_float(got, n, c, k)
        assert_close(got, exact_pass_at_k(n, c, k), rtol=RTOL, atol=ATOL,
                     what=f"pass_at_k({n}, {c}, {k}) (a float binomial this large overflows to inf; cancel first)",
                     inputs={"n": n, "c": c, "k": k})


@pytest.mark.points(1)
@given(counts=pass_counts(max_n=60))
def test_k_one_is_the_fraction_correct(student, counts):
    """pass@1 is c / n."""
    n, c, _ = counts
    got = student.pass_at_k(n, c, 1)
    check_float(got, n, c, 1)
    assert_close(got, c / n, rtol=RTOL, atol=ATOL, what=f"pass_at_k({n}, {c}, 1)", inputs={"n": n, "c": c, "k": 1})


EDGES = [(5, 4, 2, 1.0), (3, 3, 1, 1.0), (10, 8, 3, 1.0), (10_000, 9_999, 2, 1.0), (1, 1, 1, 1.0), (4, 1, 4, 1.0),
         (6, 0, 3, 0.0), (10_000, 0, 1, 0.0), (1, 0, 1, 0.0)]


@pytest.mark.points(1)
def test_edge_cases_are_exact(student):
    """Fewer than k wrong samples (n - c < k) gives exactly 1.0; no correct sample (c = 0) gives exactly 0.0."""
    for n, c, k, expected in EDGES:
        got = student.pass_at_k(n, c, k)
        check_float(got, n, c, k)
        assert_close(got, expected, rtol=0.0, atol=ATOL, what=f"pass_at_k({n}, {c}, {k})",
                     inputs={"n": n, "c": c, "k": k})


@pytest.mark.points(1)
@given(counts=pass_counts(max_n=60))
def test_monotone_in_c_and_k(student, counts):
    """More correct samples or a larger budget never lowers pass@k (and the values are right)."""
    n, c, k = counts
    base = student.pass_at_k(n, c, k)
    check_float(base, n, c, k)
    assert_close(base, exact_pass_at_k(n, c, k), rtol=RTOL, atol=ATOL, what=f"pass_at_k({n}, {c}, {k})",
                 inputs={"n": n, "c": c, "k": k})
    if c < n:
        more = student.pass_at_k(n, c + 1, k)
        assert more >= base - ATOL, (f"pass_at_k({n}, {c + 1}, {k}) = {more!r} is below pass_at_k({n}, {c}, {k}) = "
                                     f"{base!r}: one more correct sample cannot lower pass@k")
    if k < n:
        wider = student.pass_at_k(n, c, k + 1)
        assert wider >= base - ATOL, (f"pass_at_k({n}, {c}, {k + 1}) = {wider!r} is below pass_at_k({n}, {c}, {k}) = "
                                      f"{base!r}: a larger budget cannot lower pass@k")
