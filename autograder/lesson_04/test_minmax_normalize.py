"""Hidden tests for ``minmax_normalize``: (s - min) / (max - min); all-equal scores give 0.5."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_04.strategies import EXACT_SCORES, score_atol, score_vectors
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("minmax_normalize")


@pytest.mark.points(3)
@given(scores=score_vectors())
def test_matches_reference(student, scores):
    """Normalised scores match on random vectors (all-equal, grid and spread-out values), float32 and float64."""
    assert_close(student.minmax_normalize(scores), ref.minmax_normalize(scores), atol=score_atol(scores),
                 inputs={"scores": scores})


@pytest.mark.points(2)
@given(dtype=st.sampled_from([torch.float32, torch.float64, torch.int64]), value=st.sampled_from(EXACT_SCORES),
       n=st.integers(1, 6))
def test_all_equal_scores_give_one_half(student, dtype, value, n):
    """N equal scores (N = 1 included) give 0.5 everywhere — not NaN (0/0) and not 0; integer scores too."""
    scores = torch.full((n,), value, dtype=torch.float64).to(dtype)
    result_dtype = dtype if dtype.is_floating_point else torch.float32
    assert_close(student.minmax_normalize(scores), torch.full((n,), 0.5, dtype=result_dtype),
                 what="the normalised all-equal scores", inputs={"scores": scores})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(scores=score_vectors(constant=False))
def test_endpoints_and_order(student, scores):
    """The minimum maps to 0, the maximum to 1, everything lies in [0, 1] and the order is kept."""
    got = student.minmax_normalize(scores)
    expected = ref.minmax_normalize(scores)
    assert_close(got, expected, atol=score_atol(scores), inputs={"scores": scores})
    g = got.to(torch.float64)
    tol = score_atol(scores)
    assert abs(float(g[int(scores.argmin())])) <= tol and abs(float(g[int(scores.argmax())]) - 1) <= tol, (
        f"the minimum must map to 0 and the maximum to 1, got {got!r} for scores {scores!r}")
    order = torch.argsort(scores.to(torch.float64), stable=True)
    assert bool((g[order].diff() >= -tol).all()), f"the order of the scores is not kept: {got!r} for {scores!r}"


@pytest.mark.points(1)
@settings(max_examples=10)
@given(scores=score_vectors(constant=False, dtype=torch.float64), scale=st.sampled_from([0.5, 3.0, 40.0]),
       shift=st.sampled_from([-100.0, 0.0, 7.25]))
def test_invariant_to_shift_and_positive_scale(student, scores, scale, shift):
    """scale * s + shift (scale > 0) gives the same normalised scores as s."""
    moved = scores * scale + shift
    assert_close(student.minmax_normalize(moved), ref.minmax_normalize(scores), atol=score_atol(moved) * 4,
                 what="the normalised scores after an affine change", inputs={"scores": moved})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(values=st.lists(st.integers(-10, 10), min_size=2, max_size=6).filter(lambda v: len(set(v)) > 1))
def test_integer_scores_give_float32(student, values):
    """Integer scores (e.g. ratings from 1 to 10) give a float32 result."""
    scores = torch.tensor(values, dtype=torch.int64)
    assert_close(student.minmax_normalize(scores), ref.minmax_normalize(scores), inputs={"scores": scores})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(scores=score_vectors())
def test_does_not_modify_inputs(student, scores):
    """minmax_normalize leaves the scores unchanged (and returns the right values)."""
    result = student.call("minmax_normalize", scores)
    assert not result.mutated, "minmax_normalize modified the scores in place"
    assert_close(result.value, ref.minmax_normalize(scores), atol=score_atol(scores), inputs={"scores": scores})
