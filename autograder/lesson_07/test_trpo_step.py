"""Hidden tests for ``trpo_step``: theta + sqrt(2 max_kl / s.F s) s with s = CG(F, g)."""

import math

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_07.strategies import condition_number, trpo_problems
from rlgrade.testing import assert_close, reference_for, tolerance_for
from rlgrade.worker.callables import MatVec

ref = reference_for(__file__)
pytestmark = pytest.mark.question("trpo_step")


def call_args(problem: dict) -> dict:
    return {"theta": problem["theta"], "grad": problem["grad"], "fvp": MatVec(problem["F"]),
            "max_kl": problem["max_kl"], "cg_iters": problem["cg_iters"]}


def shown(problem: dict) -> dict:
    return {k: problem[k] for k in ("theta", "grad", "F", "max_kl", "cg_iters")}


def step_tolerances(problem: dict, step_size: float) -> dict:
    """Rounding room: theta + step is rounded at |theta|; CG's rounding grows with F's condition number.

    s.F s and s.g (equal in exact arithmetic for a CG iterate from 0) differ by about as much.
    """
    rtol, atol = tolerance_for(problem["theta"].dtype)
    cond = condition_number(problem["F"])
    size = max(1.0, float(problem["theta"].double().abs().max()))
    return {"atol": atol * size + rtol * cond * step_size, "rtol": rtol}


def step_of(got, problem: dict) -> torch.Tensor:
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(problem["theta"].shape), (
        f"expected new parameters of shape {tuple(problem['theta'].shape)}, got {got!r}")
    return got.double() - problem["theta"].double()


@pytest.mark.points(3)
@given(problem=trpo_problems())
def test_matches_reference(student, problem):
    """The new parameters match on random SPD and damped softmax-policy Fishers (cg_iters 1, 2, 3, 10), float32/64."""
    expected = ref.trpo_step(**call_args(problem))
    size = float((expected.double() - problem["theta"].double()).abs().max())
    assert_close(student.trpo_step(**call_args(problem)), expected, inputs=shown(problem),
                 **step_tolerances(problem, size))


@pytest.mark.points(2)
@settings(max_examples=15)
@given(problem=trpo_problems())
def test_step_lands_on_the_kl_boundary(student, problem):
    """The quadratic KL of the step equals max_kl: 0.5 (new - theta).F (new - theta) = max_kl, for any cg_iters."""
    got = student.trpo_step(**call_args(problem))
    step = step_of(got, problem)
    quad_kl = 0.5 * float(step @ problem["F"].double() @ step)
    rtol = 1e-3 if problem["theta"].dtype == torch.float32 else 1e-6
    assert math.isclose(quad_kl, problem["max_kl"], rel_tol=rtol), (
        f"0.5 step.F step = {quad_kl:.6g}, expected max_kl = {problem['max_kl']} (rel. tolerance {rtol:g}): scale s "
        f"by sqrt(2 max_kl / s.F s)\n  got: {got}\n  inputs: {shown(problem)}")
    assert float(step @ problem["grad"].double()) > 0, (
        f"the step goes downhill (step.g <= 0): g is the gradient of an objective to maximise\n  got: {got}\n"
        f"  inputs: {shown(problem)}")


@pytest.mark.points(2)
@settings(max_examples=15)
@given(problem=trpo_problems(dtype=torch.float64, cg_iters=(10,)))
def test_natural_gradient_step_when_cg_converges(student, problem):
    """With cg_iters >= n the step is the exact natural gradient sqrt(2 max_kl / g.F^-1 g) F^-1 g (float64)."""
    F, g = problem["F"], problem["grad"]
    natural = torch.linalg.solve(F, g)
    expected_step = math.sqrt(2 * problem["max_kl"] / float(g @ natural)) * natural
    got = student.trpo_step(**call_args(problem))
    assert_close(got, problem["theta"] + expected_step, what="theta + the natural-gradient step",
                 inputs=shown(problem), **step_tolerances(problem, float(expected_step.abs().max())))


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=trpo_problems(cg_iters=(1,)))
def test_one_cg_iteration_steps_along_the_gradient(student, problem):
    """cg_iters = 1 makes s a multiple of g, so the step is sqrt(2 max_kl / g.F g) g."""
    F, g = problem["F"].double(), problem["grad"].double()
    expected_step = math.sqrt(2 * problem["max_kl"] / float(g @ F @ g)) * g
    expected = (problem["theta"].double() + expected_step).to(problem["theta"].dtype)
    assert_close(student.trpo_step(**call_args(problem)), expected, what="theta + the step with cg_iters = 1",
                 inputs=shown(problem), **step_tolerances(problem, float(expected_step.abs().max())))


@pytest.mark.points(1)
@settings(max_examples=10)
@given(problem=trpo_problems())
def test_does_not_modify_inputs(student, problem):
    """trpo_step leaves theta and grad unchanged (and returns the right parameters)."""
    result = student.call("trpo_step", **call_args(problem))
    assert not result.mutated, f"trpo_step modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    expected = ref.trpo_step(**call_args(problem))
    size = float((expected.double() - problem["theta"].double()).abs().max())
    assert_close(result.value, expected, inputs=shown(problem), **step_tolerances(problem, size))
