"""Hidden tests for ``kl_estimate``: Schulman's k1, k2, k3 estimators of KL(pi || pi_ref) from samples of pi."""

import functools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlgrade.testing import assert_close, reference_for, reference_grad, tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, logprobs, tensors

ref = reference_for(__file__)
pytestmark = pytest.mark.question("kl_estimate")

KINDS = st.sampled_from(["k1", "k2", "k3"])
SHAPES = st.sampled_from([(1,), (5,), (2, 3), (3, 4)])


@st.composite
def sample_logprobs(draw, max_shift: float = 8.0, offset: float = 0.0, dtype=None):
    """{"logp", "logp_ref"}: log-probs in [-20, 0] (+ offset) and a reference within ±max_shift of them."""
    dtype = dtype if dtype is not None else draw(float_dtypes())
    shape = draw(SHAPES)
    logp = draw(logprobs(shape, dtype)) + offset
    shift = draw(tensors(shape, dtype, floats(-max_shift, max_shift)))
    return {"logp": logp, "logp_ref": logp + shift}


def estimate_atol(batch: dict) -> float:
    """Rounding room: the log-ratio is rounded once (relative error eps), and k3 amplifies it by |exp(r) - 1|;
    large estimates are covered by the relative tolerance."""
    d = (batch["logp_ref"].double() - batch["logp"].double()).abs()
    return tolerance_for(batch["logp"].dtype)[1] * (1.0 + float(d.max())) ** 2


@pytest.mark.points(3)
@given(batch=sample_logprobs(), kind=KINDS)
def test_matches_reference(student, batch, kind):
    """k1, k2 and k3 match per sample on random log-probs (log-ratios within ±8), float32 and float64."""
    assert_close(student.kl_estimate(**batch, kind=kind), ref.kl_estimate(**batch, kind=kind),
                 atol=estimate_atol(batch), inputs={**batch, "kind": kind})


@pytest.mark.points(2)
@settings(max_examples=15)
@given(batch=sample_logprobs(max_shift=4.0), kind=KINDS, data=st.data())
def test_gradient_matches_reference(student, batch, kind, data):
    """Gradients w.r.t. logp match for every kind (logp_ref is a constant)."""
    cotangent = data.draw(tensors(tuple(batch["logp"].shape), batch["logp"].dtype, floats(-1.0, 1.0)))
    kwargs = {**batch, "kind": kind}
    got = student.grad("kl_estimate", (), kwargs, wrt=["logp"], cotangent=cotangent)
    _, expected = reference_grad(ref.kl_estimate, (), kwargs, wrt=["logp"], cotangent=cotangent)
    assert_close(got.grads, expected, what="d estimate / d logp", atol=estimate_atol(batch), inputs=kwargs)


@functools.cache
def seeded_sample(dtype: torch.dtype):
    """N = 40000 tokens x ~ pi over V = 8 (seed 7), their log-probs under pi and pi_ref, and the exact KL."""
    gen = torch.Generator().manual_seed(7)
    logits = torch.randn(8, generator=gen, dtype=torch.float64)
    logits_ref = logits + 0.8 * torch.randn(8, generator=gen, dtype=torch.float64)
    log_pi, log_ref = torch.log_softmax(logits, -1), torch.log_softmax(logits_ref, -1)
    x = torch.multinomial(log_pi.exp(), 40_000, replacement=True, generator=gen)
    exact = float((log_pi.exp() * (log_pi - log_ref)).sum())
    return log_pi[x].to(dtype), log_ref[x].to(dtype), exact


@pytest.mark.points(2)
def test_unbiased_estimators_average_to_the_exact_kl(student):
    """k1 and k3 averaged over 40000 samples of pi are within 4 standard errors of the exact KL(pi || pi_ref)."""
    for dtype in (torch.float32, torch.float64):
        for kind in ("k1", "k3"):
            check_unbiased(student, dtype, kind)


def check_unbiased(student, dtype: torch.dtype, kind: str) -> None:
    logp, logp_ref, exact = seeded_sample(dtype)
    got = student.kl_estimate(logp, logp_ref, kind)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(logp.shape), (
        f"expected one estimate per sample, shape {tuple(logp.shape)}, got {got!r}")
    # the tolerance is the sampling error of the estimator itself (its standard error), times 4
    rho = logp_ref.double() - logp.double()
    per_sample = -rho if kind == "k1" else rho.exp() - 1 - rho
    tol = 4 * float(per_sample.std()) / math.sqrt(len(rho))
    mean = float(got.double().mean())
    assert abs(mean - exact) <= tol, (
        f"the mean of {kind} over {len(rho)} samples of pi is {mean:.5f}, but KL(pi || pi_ref) = {exact:.5f}: "
        f"an unbiased estimator's mean should be within {tol:.5f} (4 standard errors) of it ({dtype}). Check the "
        f"direction of the log-ratio (log pi_ref - log pi) and the formula.")


@pytest.mark.points(1)
@settings(max_examples=15)
@given(batch=sample_logprobs(), kind=st.sampled_from(["k2", "k3"]))
def test_k2_and_k3_are_nonnegative(student, batch, kind):
    """k2 and k3 are >= 0 for every sample (k3 since log r <= r - 1), with the right values."""
    kwargs = {**batch, "kind": kind}
    got = student.kl_estimate(**kwargs)
    assert_close(got, ref.kl_estimate(**kwargs), atol=estimate_atol(batch), inputs=kwargs)
    assert not (got < 0).any(), f"{kind} must be >= 0 for every sample, got {got}\n  inputs: {kwargs}"


@pytest.mark.points(1)
@settings(max_examples=15)
@given(batch=sample_logprobs(max_shift=20.0, offset=-1e4), kind=KINDS)
def test_large_logprobs_are_stable(student, batch, kind):
    """Log-probs near -1e4 (log-ratios within ±20) give finite, accurate estimates: subtract, do not divide exp()s."""
    kwargs = {**batch, "kind": kind}
    got = student.kl_estimate(**kwargs)
    expected = ref.kl_estimate(**kwargs)
    if isinstance(got, torch.Tensor) and not torch.isfinite(got).all():
        raise AssertionError(f"{kind} is not finite for log-probs near -1e4: got {got}, expected {expected} "
                             f"(exp(-1e4) underflows to 0; form the log-ratio first)\n  inputs: {kwargs}")
    assert_close(got, expected, atol=estimate_atol(batch), inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=sample_logprobs(), kind=KINDS)
def test_does_not_modify_inputs(student, batch, kind):
    """kl_estimate leaves its input tensors unchanged (and returns the right estimates)."""
    result = student.call("kl_estimate", **batch, kind=kind)
    assert not result.mutated, f"kl_estimate modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.kl_estimate(**batch, kind=kind), atol=estimate_atol(batch),
                 inputs={**batch, "kind": kind})
