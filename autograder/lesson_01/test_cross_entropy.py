"""Hidden tests for ``cross_entropy``: -(1/N) sum_n log_softmax(logits[n])[targets[n]], stable for |logits| up to 1e4."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_01.strategies import (assert_finite, classification_batches, large_logit_values, largest_abs,
                                             rounding_atol)
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats

ref = reference_for(__file__)
# the built-ins the docstring forbids, watched at the dispatcher (no alias hides them)
pytestmark = [pytest.mark.question("cross_entropy"), pytest.mark.forbid("aten::_log_softmax", "aten::nll_loss_forward", "aten::nll_loss2d_forward")]


def atol_for(batch: dict) -> float:
    return rounding_atol(batch["logits"].dtype, largest_abs(batch["logits"]))


@pytest.mark.points(3)
@given(batch=classification_batches())
def test_matches_reference(student, batch):
    """The mean loss matches on random [N, C] logits and int64 targets, float32 and float64."""
    assert_close(student.cross_entropy(**batch), ref.cross_entropy(**batch), atol=atol_for(batch), inputs=batch)


@pytest.mark.points(2)
@given(batch=classification_batches())
def test_gradient_is_softmax_minus_onehot(student, batch):
    """The gradient w.r.t. the logits is (softmax(logits) - onehot(targets)) / N."""
    logits, targets = batch["logits"], batch["targets"]
    got = student.grad("cross_entropy", (), batch, wrt=["logits"])
    n, c = logits.shape
    expected = (torch.softmax(logits.double(), dim=-1) - torch.nn.functional.one_hot(targets, c).double()) / n
    assert_close(got.grads, (expected.to(logits.dtype),), what="d loss / d logits", inputs=batch)


@pytest.mark.points(1)
@given(batch=classification_batches(min_classes=2), data=st.data())
def test_equal_logits_give_log_c(student, batch, data):
    """When every class of a row gets the same logit (any value, up to ±1e4), the loss is log C."""
    logits = batch["logits"]
    n, c = logits.shape
    levels = data.draw(st.lists(st.one_of(floats(-20.0, 20.0), large_logit_values()), min_size=n, max_size=n))
    flat = {"logits": torch.tensor(levels, dtype=torch.float64).to(logits.dtype)[:, None].expand(n, c).clone(),
            "targets": batch["targets"]}
    expected = torch.tensor(math.log(c), dtype=logits.dtype)
    got = student.cross_entropy(**flat)
    assert_finite(got, expected, what="the loss", why="Equal logits as large as 1e4: use log-softmax, not "
                  "log(softmax) or exp(logits).", inputs=flat)
    assert_close(got, expected, what=f"the loss of equal logits over C = {c} classes (log C)",
                 atol=rounding_atol(logits.dtype, max(abs(v) for v in levels)), inputs=flat)


@pytest.mark.points(2)
@given(batch=classification_batches(large=True))
def test_large_logits_are_stable(student, batch):
    """Logits up to 1e4 in absolute value give a finite, accurate loss (log-softmax, not log(softmax))."""
    got = student.cross_entropy(**batch)
    expected = ref.cross_entropy(**batch)
    assert_finite(got, expected, what="the loss", why=f"|logits| reach {largest_abs(batch['logits']):.4g}: exp() "
                  "overflows and softmax underflows to 0; use log-softmax (the log-sum-exp trick).", inputs=batch)
    assert_close(got, expected, atol=atol_for(batch), inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=classification_batches())
def test_mean_over_samples(student, batch):
    """The loss is a mean over samples: the batch stacked twice gives the same loss as the batch."""
    doubled = {"logits": torch.cat([batch["logits"], batch["logits"]]),
               "targets": torch.cat([batch["targets"], batch["targets"]])}
    assert_close(student.cross_entropy(**doubled), ref.cross_entropy(**batch), atol=atol_for(batch),
                 what="the loss of the batch stacked twice", inputs=doubled)


@pytest.mark.points(1)
@given(dtype=float_dtypes())
def test_one_sample_one_class_per_row(student, dtype):
    """Hand-made cases: one sample (N = 1), a single class (C = 1, loss 0) and a sure wrong answer."""
    cases = [
        ({"logits": torch.tensor([[0.0, math.log(3.0)]], dtype=dtype), "targets": torch.tensor([0])}, math.log(4.0)),
        ({"logits": torch.tensor([[7.0], [-3.0]], dtype=dtype), "targets": torch.tensor([0, 0])}, 0.0),
        ({"logits": torch.tensor([[30.0, -30.0, -30.0], [0.0, 0.0, 0.0]], dtype=dtype),
          "targets": torch.tensor([1, 2])}, (60.0 + math.log(1 + 2 * math.exp(-60.0)) + math.log(3.0)) / 2),
    ]
    for batch, value in cases:
        assert_close(student.cross_entropy(**batch), torch.tensor(value, dtype=dtype), inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(batch=classification_batches())
def test_does_not_modify_inputs(student, batch):
    """cross_entropy leaves logits and targets unchanged (and returns the right loss)."""
    result = student.call("cross_entropy", **batch)
    assert not result.mutated, f"cross_entropy modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.cross_entropy(**batch), atol=atol_for(batch), inputs=batch)
