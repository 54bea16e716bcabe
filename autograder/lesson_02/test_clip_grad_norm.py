"""Hidden tests for ``clip_grad_norm``: one scale min(1, max_norm / (norm + 1e-6)) for every tensor, and the norm."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_02.strategies import MAX_NORMS, global_norm, gradient_lists, largest_abs, rounding_atol
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.compare import describe_inputs
from rlgrade.testing.strategies import float_dtypes

ref = reference_for(__file__)
pytestmark = pytest.mark.question("clip_grad_norm")


def atol_for(grads: list) -> float:
    return rounding_atol(grads[0].dtype, largest_abs(*grads), gain=max(1, sum(g.numel() for g in grads)) ** 0.5)


def unpack(got: object, grads: list, inputs: dict) -> tuple[list, torch.Tensor]:
    """(clipped, total_norm) after checking the structure: a pair of a list of len(grads) tensors and a tensor."""
    ok = (isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[0], (list, tuple))
          and len(got[0]) == len(grads) and all(isinstance(g, torch.Tensor) for g in got[0])
          and isinstance(got[1], torch.Tensor))
    assert ok, (f"clip_grad_norm must return (clipped: list of {len(grads)} tensors, total_norm: 0-dim tensor), "
                f"got {got!r}" + describe_inputs(inputs))
    return list(got[0]), got[1]


@pytest.mark.points(3)
@given(grads=gradient_lists(), max_norm=MAX_NORMS)
def test_matches_reference(student, grads, max_norm):
    """(clipped, total_norm) match on random lists of mixed shapes (0-dim included), float32 and float64."""
    inputs = {"grads": grads, "max_norm": max_norm}
    assert_close(student.clip_grad_norm(grads, max_norm), ref.clip_grad_norm(grads, max_norm), atol=atol_for(grads),
                 inputs=inputs)


@pytest.mark.points(1)
@given(grads=gradient_lists(), max_norm=MAX_NORMS)
def test_total_norm_is_the_global_l2_norm(student, grads, max_norm):
    """total_norm is sqrt(sum of all squared entries of all tensors), before clipping, as a 0-dim tensor."""
    inputs = {"grads": grads, "max_norm": max_norm}
    _, total_norm = unpack(student.clip_grad_norm(grads, max_norm), grads, inputs)
    expected = torch.tensor(global_norm(grads), dtype=grads[0].dtype)
    assert_close(total_norm, expected, what="total_norm (the global L2 norm of the input gradients)",
                 atol=atol_for(grads), inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(grads=gradient_lists(), max_norm=MAX_NORMS)
def test_never_increases_the_norm(student, grads, max_norm):
    """The clipped norm is at most min(norm, max_norm): clipping never scales a gradient up (and is right)."""
    inputs = {"grads": grads, "max_norm": max_norm}
    got = student.clip_grad_norm(grads, max_norm)
    clipped, _ = unpack(got, grads, inputs)
    before = global_norm(grads)
    after = global_norm(clipped)
    bound = min(before, max_norm) * (1 + 1e-5) + 1e-12
    assert after <= bound, (f"the clipped gradients have global norm {after!r}, more than min(norm = {before!r}, "
                            f"max_norm = {max_norm!r})" + describe_inputs(inputs))
    assert_close(got, ref.clip_grad_norm(grads, max_norm), atol=atol_for(grads), inputs=inputs)


@pytest.mark.points(2)
@given(grads=gradient_lists(), factor=st.sampled_from([1.01, 1.5, 4.0, 1000.0]))
def test_small_gradients_are_unchanged(student, grads, factor):
    """When the global norm is below max_norm, every gradient comes back unchanged (scale 1, never up)."""
    max_norm = global_norm(grads) * factor + 1e-3
    inputs = {"grads": grads, "max_norm": max_norm}
    clipped, total_norm = unpack(student.clip_grad_norm(grads, max_norm), grads, inputs)
    assert_close(clipped, grads, what="the gradients under max_norm", atol=atol_for(grads), inputs=inputs)
    assert_close(total_norm, torch.tensor(global_norm(grads), dtype=grads[0].dtype), what="total_norm",
                 atol=atol_for(grads), inputs=inputs)


@pytest.mark.points(2)
@given(grads=gradient_lists(low=-50.0, high=50.0).filter(lambda gs: global_norm(gs) > 10.0),
       max_norm=st.sampled_from([0.1, 1.0, 5.0]))
def test_large_gradients_share_one_scale(student, grads, max_norm):
    """Above max_norm every tensor is scaled by the same max_norm / (norm + 1e-6): the global norm becomes max_norm."""
    inputs = {"grads": grads, "max_norm": max_norm}
    clipped, _ = unpack(student.clip_grad_norm(grads, max_norm), grads, inputs)
    norm = global_norm(grads)
    scale = max_norm / (norm + 1e-6)
    expected = [(g.double() * scale).to(g.dtype) for g in grads]
    assert_close(clipped, expected, what=f"the clipped gradients (all scaled by {scale:.6g})", atol=atol_for(grads),
                 inputs=inputs)
    after = global_norm(clipped)
    assert abs(after - max_norm) <= 1e-4 * max_norm, (
        f"the clipped global norm is {after!r}, expected max_norm = {max_norm!r}" + describe_inputs(inputs))


@pytest.mark.points(1)
@settings(max_examples=10)
@given(dtype=float_dtypes(), grads=gradient_lists(), max_norm=MAX_NORMS)
def test_zero_gradients_stay_zero(student, dtype, grads, max_norm):
    """All-zero gradients come back as zeros with total_norm 0 (the 1e-6 avoids 0/0); other lists are right too."""
    zeros = [torch.zeros(g.shape, dtype=dtype) for g in grads]
    inputs = {"grads": zeros, "max_norm": max_norm}
    assert_close(student.clip_grad_norm(zeros, max_norm), (zeros, torch.zeros((), dtype=dtype)),
                 what="(clipped, total_norm) of all-zero gradients", inputs=inputs)
    assert_close(student.clip_grad_norm(grads, max_norm), ref.clip_grad_norm(grads, max_norm), atol=atol_for(grads),
                 inputs={"grads": grads, "max_norm": max_norm})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(grads=gradient_lists(), max_norm=MAX_NORMS)
def test_does_not_modify_inputs(student, grads, max_norm):
    """clip_grad_norm leaves the input gradients unchanged (and returns the right result)."""
    result = student.call("clip_grad_norm", grads, max_norm)
    assert not result.mutated, (f"clip_grad_norm modified its input(s) in place: {', '.join(map(str, result.mutated))}"
                                " (return new tensors: g * scale, not g.mul_(scale))")
    assert_close(result.value, ref.clip_grad_norm(grads, max_norm), atol=atol_for(grads),
                 inputs={"grads": grads, "max_norm": max_norm})
