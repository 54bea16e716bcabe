"""Hidden tests for ``merge_lora``: W' = W + (alpha / r) B A, equivalent to the unmerged LoRA layer."""

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_09.strategies import ALPHAS, lora_atol, lora_layers, merge_atol
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("merge_lora")


def weights(layer: dict) -> dict:
    return {k: layer[k] for k in ("W", "A", "B")}


@pytest.mark.points(2)
@given(layer=lora_layers(lead=()), alpha=ALPHAS)
def test_matches_reference(student, layer, alpha):
    """Merged weights match for square and non-square layers, ranks 1-3, several alpha, float32/64."""
    kwargs = {**weights(layer), "alpha": alpha}
    assert_close(student.merge_lora(**kwargs), ref.merge_lora(**kwargs), atol=merge_atol(layer, alpha), inputs=kwargs)


@pytest.mark.points(3)
@given(layer=lora_layers(), alpha=ALPHAS)
def test_merged_layer_equals_unmerged_forward(student, layer, alpha):
    """x W'^T equals the unmerged LoRA forward x W^T + (alpha/r) x A^T B^T, up to float rounding."""
    kwargs = {**weights(layer), "alpha": alpha}
    merged = student.merge_lora(**kwargs)
    W = layer["W"]
    assert isinstance(merged, torch.Tensor) and tuple(merged.shape) == tuple(W.shape) and merged.dtype == W.dtype, (
        f"merge_lora should return a tensor of W's shape {tuple(W.shape)} and dtype {W.dtype}, got {merged!r}")
    got = layer["x"] @ merged.T
    expected = ref.lora_forward(**layer, alpha=alpha)
    assert_close(got, expected, atol=2 * lora_atol(layer, alpha), what="x W'^T compared with the unmerged forward",
                 inputs={**layer, "alpha": alpha})


@pytest.mark.points(2)
@settings(max_examples=10)
@given(layer=lora_layers(lead=()), alpha=ALPHAS)
def test_does_not_modify_inputs(student, layer, alpha):
    """merge_lora returns a new tensor: the base weight W (and A, B) are left unchanged."""
    kwargs = {**weights(layer), "alpha": alpha}
    result = student.call("merge_lora", **kwargs)
    assert not result.mutated, (f"merge_lora modified its input(s) in place: {', '.join(map(str, result.mutated))} "
                                "(merging in place destroys the pretrained weights)")
    assert_close(result.value, ref.merge_lora(**kwargs), atol=merge_atol(layer, alpha), inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(layer=lora_layers(lead=()), alpha=ALPHAS)
def test_zero_B_returns_W(student, layer, alpha):
    """At LoRA's initialisation (B = 0) the merged weight is W itself."""
    kwargs = {**weights(layer), "B": torch.zeros_like(layer["B"]), "alpha": alpha}
    assert_close(student.merge_lora(**kwargs), layer["W"], what="the merged weight with B = 0", inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(layer=lora_layers(lead=()), alpha=ALPHAS)
def test_doubling_the_adapter_changes_nothing(student, layer, alpha):
    """Stacking the adapter twice (rank 2r: B A doubles, alpha / r halves) merges to the same weight (the right one)."""
    kwargs = {**weights(layer), "alpha": alpha}
    doubled = {**kwargs, "A": torch.cat([layer["A"], layer["A"]]), "B": torch.cat([layer["B"], layer["B"]], dim=1)}
    expected = ref.merge_lora(**kwargs)
    atol = 2 * merge_atol(layer, alpha)
    assert_close(student.merge_lora(**kwargs), expected, atol=atol, what="the merged weight at rank r", inputs=kwargs)
    assert_close(student.merge_lora(**doubled), expected, atol=atol,
                 what="the merged weight with the adapter stacked twice (rank 2r)", inputs=doubled)
