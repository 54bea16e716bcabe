"""Hidden tests for ``adam_step``: bias-corrected moments, eps outside the root, t counted from 1."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_02.strategies import adam_hyperparameters, adam_states, largest_abs, rounding_atol
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.compare import describe_inputs
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("adam_step")


def atol_for(state: dict, expected: tuple) -> float:
    """Room for rounding: the new param is p minus a step that may be much larger than p."""
    step = largest_abs(expected[0] - state["param"])
    return rounding_atol(state["param"].dtype, largest_abs(*state.values()) + step)


def unpack(got: object, inputs: dict) -> tuple:
    assert isinstance(got, (tuple, list)) and len(got) == 3 and all(isinstance(x, torch.Tensor) for x in got), (
        f"adam_step must return (new_param, new_m, new_v), got {got!r}" + describe_inputs(inputs))
    return tuple(got)


@pytest.mark.points(3)
@given(state=adam_states(), hyper=adam_hyperparameters())
def test_matches_reference(student, state, hyper):
    """(param, m, v) match on random states (t from 1 to 1000, several lr, betas and eps), float32 and float64."""
    kwargs = {**state, **hyper}
    expected = ref.adam_step(**kwargs)
    assert_close(student.adam_step(**kwargs), expected, atol=atol_for(state, expected), inputs=kwargs)


@pytest.mark.points(2)
@given(dtype=float_dtypes(), data=st.data(), lr=st.sampled_from([1e-3, 0.01, 0.1]),
       beta1=st.sampled_from([0.0, 0.5, 0.9]), beta2=st.sampled_from([0.9, 0.999]))
def test_first_step_moves_by_lr_times_sign(student, dtype, data, lr, beta1, beta2):
    """From m = v = 0 at t = 1, each coordinate moves by lr * sign(grad), whatever the gradient's scale (eps = 1e-8)."""
    state = data.draw(adam_states(dtype=dtype, first_step=True))
    magnitudes = st.one_of(floats(-1e3, -1 / 64), floats(1 / 64, 1e3), st.just(0.0))
    state["grad"] = data.draw(tensors(tuple(state["param"].shape), dtype, magnitudes))
    kwargs = {**state, "t": 1, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": 1e-8}
    new_param, _, _ = unpack(student.adam_step(**kwargs), kwargs)
    expected = (state["param"].double() - lr * torch.sign(state["grad"].double())).to(dtype)
    atol = rounding_atol(dtype, largest_abs(state["param"]) + lr) + lr * 1e-5
    assert_close(new_param, expected, atol=atol, what="the parameters after the first step (p - lr * sign(g))",
                 inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(state=adam_states(first_step=True), hyper=adam_hyperparameters(t=st.just(1)))
def test_returns_raw_moment_averages(student, state, hyper):
    """new_m and new_v are the moving averages themselves ((1 - beta1) g and (1 - beta2) g^2 after one step)."""
    kwargs = {**state, **hyper}
    _, new_m, new_v = unpack(student.adam_step(**kwargs), kwargs)
    g = state["grad"].double()
    dtype = state["grad"].dtype
    assert_close((new_m, new_v), (((1 - hyper["beta1"]) * g).to(dtype), ((1 - hyper["beta2"]) * g * g).to(dtype)),
                 what="(new_m, new_v) after one step from 0 (not bias-corrected)",
                 atol=rounding_atol(dtype, largest_abs(g) ** 2), inputs=kwargs)


@pytest.mark.points(2)
@given(state=adam_states(first_step=True), hyper=adam_hyperparameters(t=st.just(1)), steps=st.integers(2, 5),
       data=st.data())
def test_chained_steps_count_t_from_one(student, state, hyper, steps, data):
    """Several steps chained (t = 1, 2, ...), feeding back (param, m, v), follow the reference trajectory."""
    param, m, v = state["param"], state["m"], state["v"]
    expected = (param, m, v)
    grads = [data.draw(tensors(tuple(param.shape), param.dtype, floats(-3.0, 3.0))) for _ in range(steps)]
    common = {k: hyper[k] for k in ("lr", "beta1", "beta2", "eps")}
    got = (param, m, v)
    for t, grad in enumerate(grads, start=1):
        kwargs = {"param": got[0], "grad": grad, "m": got[1], "v": got[2], "t": t, **common}
        got = unpack(student.adam_step(**kwargs), kwargs)
        expected = ref.adam_step(expected[0], grad, expected[1], expected[2], t, **common)
    inputs = {"param": param, "grads": grads, **common}
    atol = rounding_atol(param.dtype, largest_abs(param) + steps * common["lr"] * 10, gain=steps)
    assert_close(got, expected, atol=atol, what=f"(param, m, v) after {steps} chained steps", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(dtype=float_dtypes(), scale=st.sampled_from([1e-4, 1e-3, 1e-2]), data=st.data())
def test_eps_is_outside_the_square_root(student, dtype, scale, data):
    """With |g| = eps on the first step, the move is lr * g / (|g| + eps) = lr / 2: eps is added to sqrt(v_hat)."""
    state = data.draw(adam_states(dtype=dtype, first_step=True))
    signs = data.draw(tensors(tuple(state["param"].shape), dtype, st.sampled_from([-1.0, 1.0])))
    state["grad"] = signs * scale
    kwargs = {**state, "t": 1, "lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": scale}
    new_param, _, _ = unpack(student.adam_step(**kwargs), kwargs)
    expected = (state["param"].double() - 0.05 * signs.double()).to(dtype)
    assert_close(new_param, expected, atol=rounding_atol(dtype, largest_abs(state["param"])) + 1e-6,
                 what="the parameters after a first step with |g| = eps (a move of lr / 2)", inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(state=adam_states(), hyper=adam_hyperparameters())
def test_does_not_modify_inputs(student, state, hyper):
    """param, grad, m and v are left unchanged: the step returns new tensors (and the right ones)."""
    kwargs = {**state, **hyper}
    result = student.call("adam_step", **kwargs)
    assert not result.mutated, (
        f"adam_step modified its input(s) in place: {', '.join(map(str, result.mutated))} "
        "(return new tensors instead of updating with -=, .mul_(), .add_(), .addcmul_())")
    expected = ref.adam_step(**kwargs)
    assert_close(result.value, expected, atol=atol_for(state, expected), inputs=kwargs)
