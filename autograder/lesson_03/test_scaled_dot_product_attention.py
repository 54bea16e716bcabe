"""Hidden tests for ``scaled_dot_product_attention``: softmax(q k^T / sqrt(d), allowed keys only) v."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_03.strategies import (
    assert_finite_where_expected,
    attention_atol,
    attention_inputs,
    magnitude,
)
from rlgrade.testing import assert_close, reference_for, reference_grad, tolerance_for
from rlgrade.testing.strategies import float_dtypes, floats, tensors

ref = reference_for(__file__)
# F.scaled_dot_product_attention is off limits (the docstring says so). On CPU it runs as the fused flash kernel
# when d_v == d, and as the math path (whose softmax is aten::_safe_softmax) otherwise; the CUDA kernels too.
SDPA_KERNELS = ("aten::_scaled_dot_product_flash_attention_for_cpu", "aten::_safe_softmax",
                "aten::_scaled_dot_product_flash_attention", "aten::_scaled_dot_product_efficient_attention",
                "aten::_scaled_dot_product_cudnn_attention")
pytestmark = [pytest.mark.question("scaled_dot_product_attention"), pytest.mark.forbid(*SDPA_KERNELS)]

OVERFLOW_HINT = ("Exponentiating raw scores overflows (e^1e4 = inf): use torch.softmax, which subtracts each row's "
                 "maximum, and give disallowed keys a score of -inf.")


def call(student, inputs: dict):
    """Call with mask=None left to the default."""
    return student.scaled_dot_product_attention(**{k: v for k, v in inputs.items() if v is not None})


@pytest.mark.points(3)
@given(inputs=attention_inputs())
def test_matches_reference(student, inputs):
    """Outputs match on random q, k, v (S may differ from T, d_v from d) with masks of several shapes or none."""
    got = call(student, inputs)
    assert_close(got, ref.scaled_dot_product_attention(**inputs), atol=attention_atol(inputs), inputs=inputs)


@pytest.mark.points(2)
@settings(max_examples=10)
@given(inputs=attention_inputs(), data=st.data())
def test_gradient_matches_reference(student, inputs, data):
    """Gradients w.r.t. q, k and v match (0 for keys and values nobody may attend to)."""
    expected_out = ref.scaled_dot_product_attention(**inputs)
    cotangent = data.draw(tensors(tuple(expected_out.shape), expected_out.dtype, floats(-1.0, 1.0)))
    wrt = ["q", "k", "v"]
    got = student.grad("scaled_dot_product_attention", (), inputs, wrt=wrt, cotangent=cotangent)
    _, expected = reference_grad(ref.scaled_dot_product_attention, (), inputs, wrt=wrt, cotangent=cotangent)
    atol = attention_atol(inputs) * max(magnitude(inputs["q"]), magnitude(inputs["k"])) * 4
    assert_close(got.grads, expected, what="the gradients (d/dq, d/dk, d/dv)", atol=atol, inputs=inputs)


@pytest.mark.points(2)
@settings(max_examples=15)
@given(inputs=attention_inputs(large=True))
def test_large_scores_are_stable(student, inputs):
    """Scores as large as 2e4 in absolute value give finite, accurate outputs (with and without masks)."""
    got = call(student, inputs)
    expected = ref.scaled_dot_product_attention(**inputs)
    assert_finite_where_expected(got, expected, "the attention output", inputs, OVERFLOW_HINT)
    atol = 10 * tolerance_for(expected.dtype)[1] * magnitude(inputs["v"])  # the scores themselves are exact here
    assert_close(got, expected, atol=atol, inputs=inputs)


@pytest.mark.points(1)
@given(dtype=float_dtypes())
def test_blocked_key_with_a_huge_score_gets_no_weight(student, dtype):
    """A disallowed key gets weight exactly 0 even when its score (+2e4) towers over the allowed one (-2e4)."""
    q = torch.full((1, 1, 2, 4), 100.0, dtype=dtype)
    k = torch.stack([torch.full((4,), -100.0), torch.full((4,), 100.0)]).to(dtype)[None, None]   # scores -2e4, +2e4
    v = torch.tensor([[1.0, -2.0], [7.0, 5.0]], dtype=dtype)[None, None]
    mask = torch.tensor([[True, False], [True, True]])
    inputs = {"q": q, "k": k, "v": v, "mask": mask}
    got = student.scaled_dot_product_attention(**inputs)
    expected = torch.tensor([[1.0, -2.0], [7.0, 5.0]], dtype=dtype)[None, None]
    assert_finite_where_expected(got, expected, "the attention output", inputs, OVERFLOW_HINT)
    assert_close(got, expected, what="the output (query 0 may only see key 0; query 1 sees key 1's huge score)",
                 inputs=inputs)


@st.composite
def inputs_with_a_blocked_key(draw):
    """Attention inputs with a [T, S] mask in which one key is blocked for every query (S >= 2)."""
    inputs = draw(attention_inputs(mask_kinds=("2d",)).filter(lambda x: x["k"].shape[-2] >= 2))
    keys = inputs["k"].shape[-2]
    blocked = draw(st.integers(0, keys - 1))
    mask = inputs["mask"].clone()
    mask[:, blocked] = False
    for row in range(mask.shape[0]):
        if not mask[row].any():
            mask[row, (blocked + 1) % keys] = True
    junk_k = draw(tensors(tuple(inputs["k"][..., blocked, :].shape), inputs["k"].dtype, floats(-50.0, 50.0)))
    junk_v = draw(tensors(tuple(inputs["v"][..., blocked, :].shape), inputs["v"].dtype, floats(-1e3, 1e3)))
    return {**inputs, "mask": mask}, blocked, junk_k, junk_v


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=inputs_with_a_blocked_key())
def test_blocked_keys_and_values_do_not_matter(student, case):
    """Changing the key and value of a position that no query may attend to changes nothing."""
    inputs, blocked, junk_k, junk_v = case
    k, v = inputs["k"].clone(), inputs["v"].clone()
    k[..., blocked, :] = junk_k
    v[..., blocked, :] = junk_v
    changed = {**inputs, "k": k, "v": v}
    got = student.scaled_dot_product_attention(**changed)
    assert_close(got, ref.scaled_dot_product_attention(**inputs), atol=attention_atol(inputs),
                 what=f"the output after changing the blocked key/value {blocked}", inputs=changed)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(inputs=attention_inputs(mask_kinds=("causal",)))
def test_first_query_under_a_causal_mask_copies_the_first_value(student, inputs):
    """With a causal mask, query 0 sees only key 0, so its output is exactly v[..., 0, :]; the rest match too."""
    got = student.scaled_dot_product_attention(**inputs)
    expected = ref.scaled_dot_product_attention(**inputs)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(expected.shape), (
        f"expected a tensor of shape {tuple(expected.shape)}, got {got!r}")
    assert_close(got[..., 0, :], inputs["v"][..., 0, :], what="the output of query 0 under a causal mask",
                 inputs=inputs)
    assert_close(got, expected, atol=attention_atol(inputs), inputs=inputs)


@st.composite
def identical_values(draw):
    inputs = draw(attention_inputs())
    b, h, s, d_v = inputs["v"].shape
    magnitudes = st.floats(0.5, 3.0, width=32)
    signs = st.sampled_from([-1.0, 1.0])
    c = torch.tensor([draw(magnitudes) * draw(signs) for _ in range(b * h * d_v)], dtype=torch.float64)
    c = c.to(inputs["v"].dtype).reshape(b, h, 1, d_v)
    return {**inputs, "v": c.expand(b, h, s, d_v).contiguous()}, c


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=identical_values())
def test_weights_sum_to_one_over_the_keys(student, case):
    """If every key has the same value vector c, every query outputs c: its weights sum to 1 over allowed keys."""
    inputs, c = case
    got = call(student, inputs)
    expected = c.expand(*inputs["q"].shape[:-1], c.shape[-1])
    assert_close(got, expected, what="the output when all values equal c", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(inputs=attention_inputs())
def test_does_not_modify_inputs(student, inputs):
    """scaled_dot_product_attention leaves q, k, v and the mask unchanged (and returns the right output)."""
    result = student.call("scaled_dot_product_attention", **{k: v for k, v in inputs.items() if v is not None})
    assert not result.mutated, (
        f"scaled_dot_product_attention modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.scaled_dot_product_attention(**inputs), atol=attention_atol(inputs),
                 inputs=inputs)
