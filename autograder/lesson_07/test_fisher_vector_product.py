"""Hidden tests for ``fisher_vector_product``: Hessian-vector products by double backward, plus damping."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_07.strategies import (
    explicit_hessian,
    hvp_atol,
    quadratic_losses,
    softmax_policies,
    twice_differentiable,
)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("fisher_vector_product")

DAMPINGS = st.sampled_from([0.0, 0.01, 0.1, 1.0])


@pytest.mark.points(3)
@given(case=twice_differentiable())
def test_matches_the_explicit_hessian(student, case):
    """H v equals the explicit Hessian times v on softmax-policy KLs, logistic and quadratic losses, float32/64."""
    fn, theta, v = case
    H = explicit_hessian(fn, theta)
    expected = H @ v
    assert_close(student.fisher_vector_product(fn, theta, v), expected, what="H v", atol=hvp_atol(H, v),
                 inputs={"mean_kl": fn, "theta": theta, "v": v})


@pytest.mark.points(2)
@settings(max_examples=15)
@given(case=twice_differentiable(), damping=DAMPINGS)
def test_damping_adds_lambda_v(student, case, damping):
    """With damping lambda the result is (H + lambda I) v."""
    fn, theta, v = case
    H = explicit_hessian(fn, theta)
    kwargs = {"mean_kl": fn, "theta": theta, "v": v, "damping": damping}
    assert_close(student.fisher_vector_product(**kwargs), ref.fisher_vector_product(**kwargs),
                 atol=hvp_atol(H, v) + 1e-6 * damping, inputs=kwargs)


@pytest.mark.points(2)
@settings(max_examples=15)
@given(data=st.data(), dtype=float_dtypes())
def test_fisher_is_symmetric_positive_semidefinite(student, data, dtype):
    """At theta = theta_old the KL's Hessian is a Fisher matrix: u.F v = v.F u and v.F v >= 0 (values checked too)."""
    fn, theta = data.draw(softmax_policies(dtype, at_old=True))
    u, v = (data.draw(tensors(tuple(theta.shape), dtype, floats(-2.0, 2.0))) for _ in range(2))
    H = explicit_hessian(fn, theta)
    Fu, Fv = student.fisher_vector_product(fn, theta, u), student.fisher_vector_product(fn, theta, v)
    inputs = {"mean_kl": fn, "theta": theta, "u": u, "v": v}
    atol = hvp_atol(H, u) + hvp_atol(H, v)
    assert_close(Fv, H @ v, what="F v", atol=atol, inputs=inputs)
    uFv, vFu = float(u.double() @ Fv.double()), float(v.double() @ Fu.double())
    scale = 2 * atol * float(u.double().abs().sum() + v.double().abs().sum())
    assert abs(uFv - vFu) <= scale, f"u.F v = {uFv} but v.F u = {vFu}: F must be symmetric\n  inputs: {inputs}"
    vFv = float(v.double() @ Fv.double())
    assert vFv >= -scale, f"v.F v = {vFv} < 0: a Fisher matrix is positive semi-definite\n  inputs: {inputs}"


@pytest.mark.points(1)
@settings(max_examples=10)
@given(data=st.data(), dtype=float_dtypes(), damping=DAMPINGS)
def test_quadratic_gives_its_matrix(student, data, dtype, damping):
    """For f(x) = 0.5 x.A x + b.x + c with symmetric A the result is (A + lambda I) v, wherever theta is."""
    fn, theta = data.draw(quadratic_losses(dtype, spd=False))
    v = data.draw(tensors(tuple(theta.shape), dtype, floats(-2.0, 2.0)))
    expected = (fn.A.double() @ v.double() + damping * v.double()).to(dtype)
    assert_close(student.fisher_vector_product(fn, theta, v, damping=damping), expected, what="(A + lambda I) v",
                 atol=hvp_atol(fn.A, v), inputs={"A": fn.A, "theta": theta, "v": v, "damping": damping})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=twice_differentiable(), damping=DAMPINGS)
def test_does_not_modify_inputs(student, case, damping):
    """fisher_vector_product leaves theta and v unchanged (and returns the right product)."""
    fn, theta, v = case
    result = student.call("fisher_vector_product", fn, theta, v, damping=damping)
    assert not result.mutated, (
        f"fisher_vector_product modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    H = explicit_hessian(fn, theta)
    assert_close(result.value, ref.fisher_vector_product(fn, theta, v, damping=damping),
                 atol=hvp_atol(H, v) + 1e-6 * damping, inputs={"mean_kl": fn, "theta": theta, "v": v})
