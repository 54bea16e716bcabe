"""Known mistakes in ``backtracking_line_search`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("backtracking_line_search",
               "accepts any decrease: ignores the ratio test against the expected improvement")
def any_decrease(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    fx = f(x)
    for k in range(max_backtracks):
        x_new = x + 0.5 ** k * fullstep
        if fx - f(x_new) > 0:
            return True, x_new
    return False, x


@misconception("backtracking_line_search", "compares with the full step's expected improvement (not scaled by 0.5^k)")
def unscaled_expectation(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    fx = f(x)
    for k in range(max_backtracks):
        x_new = x + 0.5 ** k * fullstep
        actual = fx - f(x_new)
        if actual > 0 and actual / expected_improve > accept_ratio:
            return True, x_new
    return False, x


@misconception("backtracking_line_search", "starts at the half step: fractions 0.5^(k+1)")
def starts_at_half(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    fx = f(x)
    for k in range(1, max_backtracks + 1):
        x_new = x + 0.5 ** k * fullstep
        actual = fx - f(x_new)
        if actual > 0 and actual / (expected_improve * 0.5 ** k) > accept_ratio:
            return True, x_new
    return False, x


@misconception("backtracking_line_search", "treats f as an objective to increase: actual = f(x_new) - f(x)")
def maximises(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    fx = f(x)
    for k in range(max_backtracks):
        x_new = x + 0.5 ** k * fullstep
        actual = f(x_new) - fx
        if actual > 0 and actual / (expected_improve * 0.5 ** k) > accept_ratio:
            return True, x_new
    return False, x


@misconception("backtracking_line_search", "on failure returns the last point tried instead of x")
def returns_last_try(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    fx = f(x)
    x_new = x
    for k in range(max_backtracks):
        x_new = x + 0.5 ** k * fullstep
        actual = fx - f(x_new)
        if actual > 0 and actual / (expected_improve * 0.5 ** k) > accept_ratio:
            return True, x_new
    return False, x_new


@misconception("backtracking_line_search", "tries one fraction too many: k = 0..max_backtracks")
def one_extra_fraction(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    fx = f(x)
    for k in range(max_backtracks + 1):
        x_new = x + 0.5 ** k * fullstep
        actual = fx - f(x_new)
        if actual > 0 and actual / (expected_improve * 0.5 ** k) > accept_ratio:
            return True, x_new
    return False, x


@misconception("backtracking_line_search",
               "returns the comparison tensor as the flag (a 0-dim bool tensor, not a Python bool)")
def tensor_flag(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    fx = f(x)
    for k in range(max_backtracks):
        x_new = x + 0.5 ** k * fullstep
        actual = fx - f(x_new)
        ok = (actual > 0) & (actual / (expected_improve * 0.5 ** k) > accept_ratio)
        if ok:
            return ok, x_new
    return torch.tensor(False), x


@misconception("backtracking_line_search",
               "halves the step in place (fullstep.mul_(0.5)): the caller's fullstep changes")
def halves_in_place(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    fx = f(x)
    expected = expected_improve
    for _ in range(max_backtracks):
        x_new = x + fullstep
        actual = fx - f(x_new)
        if actual > 0 and actual / expected > accept_ratio:
            return True, x_new
        fullstep.mul_(0.5)
        expected = expected * 0.5
    return False, x


@rewrite("backtracking_line_search",
         "halves a copy of the step and the expectation each time; multiplies instead of dividing")
def halving_copy(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    f0 = float(f(x))
    step = fullstep.clone()
    expected = float(expected_improve)
    for _ in range(max_backtracks):
        candidate = x + step
        improvement = f0 - float(f(candidate))
        if improvement > 0 and improvement > accept_ratio * expected:
            return True, candidate
        step = step / 2
        expected = expected / 2
    return False, x.clone()


@rewrite("backtracking_line_search", "builds the list of fractions first and uses next() over a generator")
def generator_search(f, x, fullstep, expected_improve, max_backtracks=10, accept_ratio=0.1):
    loss_x = f(x)
    fractions = [2.0 ** -k for k in range(max_backtracks)]
    candidates = ((t, x + t * fullstep) for t in fractions)
    found = next(((t, xn) for t, xn in candidates
                  if (loss_x - f(xn)) > 0 and (loss_x - f(xn)) / (t * expected_improve) > accept_ratio), None)
    if found is None:
        return False, x
    return True, found[1]
