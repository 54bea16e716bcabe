"""Hidden tests for ``importance_sampling_estimate``: ordinary mean(w f) and weighted sum(w f) / sum(w)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_05.strategies import distribution_lists, largest, scaled_atol
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, logprobs, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("importance_sampling_estimate")
MAX_SAMPLES = 8


@st.composite
def is_samples(draw, *, dtype=None, max_shift: float = 3.0, offset: float = 0.0):
    """``{"f", "logp_target", "logp_behavior"}`` [N]; log-ratios within ±max_shift, all log-probs moved by offset."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    n = draw(st.integers(1, MAX_SAMPLES))
    f = draw(tensors((n,), dtype, floats(-5.0, 5.0)))
    logp_behavior = draw(logprobs((n,), dtype))
    shift = draw(tensors((n,), dtype, floats(-max_shift, max_shift)))
    return {"f": f, "logp_target": logp_behavior + shift + offset, "logp_behavior": logp_behavior + offset}


def estimate_atol(samples: dict) -> float:
    """The estimate sums N terms w f: room for another summation order, relative to the largest term."""
    d = {k: v.double() for k, v in samples.items()}
    w = torch.exp(d["logp_target"] - d["logp_behavior"])
    return scaled_atol(samples["f"].dtype, largest(w * d["f"]) * 4)


@pytest.mark.points(3)
@given(samples=is_samples(), weighted=st.booleans())
def test_matches_reference(student, samples, weighted):
    """Ordinary and weighted estimates match on random samples (log-ratios within ±3), float32 and float64."""
    kwargs = {**samples, "weighted": weighted}
    assert_close(student.importance_sampling_estimate(**kwargs), ref.importance_sampling_estimate(**kwargs),
                 atol=estimate_atol(samples), inputs=kwargs)


@pytest.mark.points(1)
@given(samples=is_samples(), weighted=st.booleans())
def test_equal_policies_give_the_plain_mean(student, samples, weighted):
    """When the target is the behavior policy every weight is 1: both estimates are the plain mean of f."""
    same = {**samples, "logp_target": samples["logp_behavior"]}
    kwargs = {**same, "weighted": weighted}
    expected = samples["f"].double().mean().to(samples["f"].dtype)
    assert_close(student.importance_sampling_estimate(**kwargs), expected, atol=estimate_atol(same),
                 what="the estimate with target == behavior", inputs=kwargs)


@pytest.mark.points(2)
@given(dtype=float_dtypes(), data=st.data(), weighted=st.booleans())
def test_enumerating_the_support_gives_the_exact_expectation(student, dtype, data, weighted):
    """One sample of each of K outcomes, uniform behavior: both estimates equal E_target[f] exactly."""
    k = data.draw(st.integers(1, MAX_SAMPLES))
    p = [max(q, 1e-3) for q in data.draw(distribution_lists(k, kind="weights"))]  # the target puts mass everywhere
    total = sum(p)
    p = [q / total for q in p]
    f = data.draw(tensors((k,), dtype, floats(-5.0, 5.0)))
    kwargs = {"f": f, "logp_target": torch.tensor([math.log(q) for q in p], dtype=dtype),
              "logp_behavior": torch.full((k,), -math.log(k), dtype=dtype), "weighted": weighted}
    expected = (torch.tensor(p, dtype=torch.float64) * f.double()).sum().to(dtype)
    assert_close(student.importance_sampling_estimate(**kwargs), expected,
                 atol=scaled_atol(dtype, k * largest(f)), what="the estimate of E_target[f]", inputs=kwargs)


@pytest.mark.points(1)
@given(samples=is_samples(), c=st.sampled_from([-3.0, -1.0, 2.0]))
def test_shifting_the_target_log_probs(student, samples, c):
    """Adding c to every target log-prob scales the ordinary estimate by e^c and leaves the weighted one unchanged."""
    shifted = {**samples, "logp_target": samples["logp_target"] + c}
    for weighted, factor in ((False, math.exp(c)), (True, 1.0)):
        expected = ref.importance_sampling_estimate(**samples, weighted=weighted) * factor
        assert_close(student.importance_sampling_estimate(**shifted, weighted=weighted), expected,
                     atol=estimate_atol(shifted) + scaled_atol(samples["f"].dtype, float(expected.abs())),
                     what=f"the {'weighted' if weighted else 'ordinary'} estimate after adding {c} to logp_target",
                     inputs={**shifted, "weighted": weighted})


@pytest.mark.points(1)
@given(samples=is_samples())
def test_weighted_estimate_is_a_convex_combination(student, samples):
    """The weighted estimate lies between min f and max f (and matches the reference)."""
    kwargs = {**samples, "weighted": True}
    got = student.importance_sampling_estimate(**kwargs)
    expected = ref.importance_sampling_estimate(**kwargs)
    atol = estimate_atol(samples)
    assert_close(got, expected, atol=atol, inputs=kwargs)
    f = samples["f"].double()
    assert float(f.min()) - atol <= float(got) <= float(f.max()) + atol, (
        f"the weighted estimate {float(got)!r} is outside [min f, max f] = [{float(f.min())}, {float(f.max())}]")


@pytest.mark.points(2)
@given(samples=is_samples(max_shift=20.0, offset=-1e4), weighted=st.booleans())
def test_large_log_probs_are_stable(student, samples, weighted):
    """Log-probs near -1e4 (log-ratios within ±20) give finite, accurate estimates: use exp of the difference."""
    kwargs = {**samples, "weighted": weighted}
    got = student.importance_sampling_estimate(**kwargs)
    expected = ref.importance_sampling_estimate(**kwargs)
    if isinstance(got, torch.Tensor) and not bool(torch.isfinite(got).all()):
        raise AssertionError(f"importance_sampling_estimate returned {got} for log-probs near -1e4: not finite "
                             f"(exp(logp) underflows to 0; form the weights from logp_target - logp_behavior)")
    atol = estimate_atol(samples) + scaled_atol(samples["f"].dtype, float(expected.abs()))
    assert_close(got, expected, atol=atol, inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(samples=is_samples(), weighted=st.booleans())
def test_does_not_modify_inputs(student, samples, weighted):
    """importance_sampling_estimate leaves its inputs unchanged (and returns the right estimate)."""
    result = student.call("importance_sampling_estimate", **samples, weighted=weighted)
    assert not result.mutated, (
        f"importance_sampling_estimate modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.importance_sampling_estimate(**samples, weighted=weighted),
                 atol=estimate_atol(samples), inputs={**samples, "weighted": weighted})
