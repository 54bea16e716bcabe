"""Hidden tests for ``bce_with_logits``: mean of softplus(x) - y x, stable for |logits| up to 1e4."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_01.strategies import assert_finite, binary_batches, largest_abs, rounding_atol, shapes
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
# the built-ins the docstring forbids, watched at the dispatcher (no alias hides them)
pytestmark = [pytest.mark.question("bce_with_logits"), pytest.mark.forbid("aten::binary_cross_entropy_with_logits", "aten::binary_cross_entropy")]

AWAY_FROM_ZERO = st.one_of(floats(-20.0, -1 / 64), floats(1 / 64, 20.0))
"""Logits for gradient checks: |x| >= 1/64, off the kink of max(x, 0) and |x| (an equivalent stable form of the
loss built from them gets a one-sided autograd gradient at exactly 0)."""


def atol_for(batch: dict) -> float:
    return rounding_atol(batch["logits"].dtype, largest_abs(batch["logits"]))


@pytest.mark.points(3)
@given(batch=binary_batches())
def test_matches_reference(student, batch):
    """The mean loss matches on random logits with hard (0/1) and soft targets, 1-D and 2-D, float32 and float64."""
    assert_close(student.bce_with_logits(**batch), ref.bce_with_logits(**batch), atol=atol_for(batch), inputs=batch)


@pytest.mark.points(2)
@given(batch=binary_batches(logits=AWAY_FROM_ZERO))
def test_gradient_is_sigmoid_minus_target(student, batch):
    """The gradient w.r.t. the logits is (sigmoid(x) - y) / (number of elements)."""
    x, y = batch["logits"], batch["targets"]
    got = student.grad("bce_with_logits", (), batch, wrt=["logits"])
    expected = (torch.sigmoid(x.double()) - y.double()) / x.numel()
    assert_close(got.grads, (expected.to(x.dtype),), what="d loss / d logits", inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(dtype=float_dtypes(), data=st.data())
def test_zero_logits_give_log_2(student, dtype, data):
    """Logit 0 means probability 1/2: the loss is log 2 whatever the (hard or soft) targets."""
    shape = data.draw(shapes(1, 2, 4))
    batch = {"logits": torch.zeros(shape, dtype=dtype), "targets": data.draw(tensors(shape, dtype, floats(0.0, 1.0)))}
    assert_close(student.bce_with_logits(**batch), torch.tensor(math.log(2.0), dtype=dtype),
                 what="the loss at logit 0 (log 2)", inputs=batch)


@pytest.mark.points(2)
@given(batch=binary_batches(large=True))
def test_large_logits_are_stable(student, batch):
    """Logits up to 1e4 in absolute value give a finite, accurate loss (the softplus form)."""
    got = student.bce_with_logits(**batch)
    expected = ref.bce_with_logits(**batch)
    assert_finite(got, expected, what="the loss", why=f"|logits| reach {largest_abs(batch['logits']):.4g}: "
                  "sigmoid(x) rounds to 1 or 0, so log(sigmoid) / log(1 - sigmoid) hit log(0), and exp(x) overflows; "
                  "use the softplus form softplus(x) - y x = max(x, 0) - y x + log(1 + exp(-|x|)).", inputs=batch)
    assert_close(got, expected, atol=atol_for(batch), inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=binary_batches())
def test_flipping_logit_and_label(student, batch):
    """Negating the logits and flipping the labels (y -> 1 - y) gives the same loss."""
    flipped = {"logits": -batch["logits"], "targets": 1.0 - batch["targets"]}
    assert_close(student.bce_with_logits(**flipped), ref.bce_with_logits(**batch), atol=atol_for(batch),
                 what="the loss of (-x, 1 - y)", inputs=flipped)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=binary_batches())
def test_mean_over_elements(student, batch):
    """The loss is a mean over all elements: the batch stacked twice gives the same loss."""
    doubled = {k: torch.cat([v, v]) for k, v in batch.items()}
    assert_close(student.bce_with_logits(**doubled), ref.bce_with_logits(**batch), atol=atol_for(batch),
                 what="the loss of the batch stacked twice", inputs=doubled)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=binary_batches())
def test_does_not_modify_inputs(student, batch):
    """bce_with_logits leaves logits and targets unchanged (and returns the right loss)."""
    result = student.call("bce_with_logits", **batch)
    assert not result.mutated, f"bce_with_logits modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.bce_with_logits(**batch), atol=atol_for(batch), inputs=batch)
