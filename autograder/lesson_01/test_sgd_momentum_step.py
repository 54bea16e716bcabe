"""Hidden tests for ``sgd_momentum_step``: v' = momentum v + g, p' = p - lr v', returned as new tensors."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_01.strategies import LEARNING_RATES, MOMENTA, largest_abs, momentum_states, rounding_atol
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("sgd_momentum_step")


def atol_for(state: dict) -> float:
    return rounding_atol(state["param"].dtype, largest_abs(*state.values()))


@pytest.mark.points(3)
@given(state=momentum_states(), lr=LEARNING_RATES, momentum=MOMENTA)
def test_matches_reference(student, state, lr, momentum):
    """(new_param, new_velocity) match on random states, learning rates and momenta, float32 and float64."""
    kwargs = {**state, "lr": lr, "momentum": momentum}
    assert_close(student.sgd_momentum_step(**kwargs), ref.sgd_momentum_step(**kwargs), atol=atol_for(state),
                 inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(state=momentum_states(), lr=LEARNING_RATES)
def test_zero_momentum_is_plain_sgd(student, state, lr):
    """With momentum 0 the step is plain gradient descent, p - lr g, and the new velocity is g."""
    kwargs = {**state, "lr": lr, "momentum": 0.0}
    p, g = state["param"], state["grad"]
    expected = ((p.double() - lr * g.double()).to(p.dtype), g)
    assert_close(student.sgd_momentum_step(**kwargs), expected, atol=atol_for(state),
                 what="(new_param, new_velocity) with momentum 0", inputs=kwargs)


@pytest.mark.points(2)
@given(state=momentum_states(), lr=st.sampled_from([0.01, 0.1]), momentum=st.sampled_from([0.5, 0.9]),
       steps=st.integers(2, 6))
def test_constant_gradient_gives_geometric_velocity(student, state, lr, momentum, steps):
    """Steps from v = 0 with a constant gradient g: v_k = g (1 - mu^k) / (1 - mu), p_k = p_0 - lr sum_i v_i."""
    param, grad = state["param"], state["grad"]
    velocity = torch.zeros_like(param)
    p = param
    for _ in range(steps):
        result = student.sgd_momentum_step(p, grad, velocity, lr, momentum)
        assert isinstance(result, (tuple, list)) and len(result) == 2, (
            f"sgd_momentum_step must return (new_param, new_velocity), got {result!r}")
        p, velocity = result
    g = grad.double()
    expected_velocity = g * (1 - momentum ** steps) / (1 - momentum)
    total = sum(g * (1 - momentum ** i) / (1 - momentum) for i in range(1, steps + 1))
    expected_param = param.double() - lr * total
    inputs = {"param": param, "grad": grad, "lr": lr, "momentum": momentum, "steps": steps}
    atol = rounding_atol(param.dtype, largest_abs(param, g * steps / (1 - momentum)), gain=steps)
    assert_close((p, velocity), (expected_param.to(param.dtype), expected_velocity.to(param.dtype)), atol=atol,
                 what=f"(param, velocity) after {steps} steps from v = 0", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(state=momentum_states(), momentum=MOMENTA)
def test_zero_learning_rate_keeps_param(student, state, momentum):
    """lr = 0 leaves the parameters where they are but still updates the velocity."""
    kwargs = {**state, "lr": 0.0, "momentum": momentum}
    expected_velocity = (momentum * state["velocity"].double() + state["grad"].double()).to(state["param"].dtype)
    assert_close(student.sgd_momentum_step(**kwargs), (state["param"], expected_velocity), atol=atol_for(state),
                 what="(new_param, new_velocity) with lr = 0", inputs=kwargs)


@pytest.mark.points(2)
@settings(max_examples=10)
@given(state=momentum_states(), lr=LEARNING_RATES, momentum=MOMENTA)
def test_does_not_modify_inputs(student, state, lr, momentum):
    """param, grad and velocity are left unchanged: the step returns new tensors (and the right ones)."""
    result = student.call("sgd_momentum_step", **state, lr=lr, momentum=momentum)
    assert not result.mutated, (
        f"sgd_momentum_step modified its input(s) in place: {', '.join(map(str, result.mutated))} "
        "(return new tensors instead of updating param / velocity with -=, .mul_(), .add_())")
    kwargs = {**state, "lr": lr, "momentum": momentum}
    assert_close(result.value, ref.sgd_momentum_step(**kwargs), atol=atol_for(state), inputs=kwargs)
