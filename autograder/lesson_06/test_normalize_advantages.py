"""Hidden tests for ``normalize_advantages``: (A - masked mean) / (masked Bessel std + eps), 0 on padding."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_06.strategies import SECONDARY_EXAMPLES, advantage_batches, largest, other_padding, scaled_atol
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("normalize_advantages")
EPS = st.sampled_from([1e-8, 1e-5, 0.1])


def masked_std(adv: torch.Tensor, mask: torch.Tensor) -> float:
    return float(adv.double()[mask.bool()].std())


def norm_atol(batch: dict) -> float:
    """Rounding room: an error of one rounding in the mean or std is divided by the std."""
    adv, mask = batch["adv"], batch["mask"]
    return 2 * scaled_atol(adv.dtype, largest(adv, mask) / masked_std(adv, mask))


@pytest.mark.points(3)
@given(batch=advantage_batches(), eps=EPS)
def test_matches_reference(student, batch, eps):
    """Normalised advantages match on padded batches with empty rows (float32/float64, bool/float masks, eps)."""
    kwargs = {**batch, "eps": eps}
    assert_close(student.normalize_advantages(**kwargs), ref.normalize_advantages(**kwargs), atol=norm_atol(batch),
                 inputs=kwargs)


@pytest.mark.points(2)
@given(batch=advantage_batches())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_zero_mean_unit_std(student, batch):
    """With eps = 0 the valid results have mean 0 and Bessel-corrected std 1 over the whole batch; padding is 0."""
    adv, mask = batch["adv"], batch["mask"]
    kwargs = {**batch, "eps": 0.0}
    got = student.normalize_advantages(**kwargs)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(adv.shape), (
        f"expected a tensor of shape {tuple(adv.shape)}, got {got!r}")
    valid = got.double()[mask.bool()]
    stats = torch.stack([valid.mean(), valid.std()])
    assert_close(stats, torch.tensor([0.0, 1.0], dtype=torch.float64), atol=norm_atol(batch), rtol=0.0,
                 what="(masked mean, Bessel-corrected masked std) of the result", inputs=kwargs)
    padding = got.double()[~mask.bool()]
    assert_close(padding, torch.zeros_like(padding), what="the result at padded positions", inputs=kwargs)


@pytest.mark.points(1)
@given(batch=advantage_batches(), value=st.sampled_from([-2.0, -0.5, 0.0, 1.0, 4.0]), eps=EPS)
@settings(max_examples=SECONDARY_EXAMPLES)
def test_constant_advantages_give_zero(student, batch, value, eps):
    """Equal valid advantages give 0 everywhere (eps avoids 0/0); a varied batch still matches."""
    adv, mask = batch["adv"], batch["mask"]
    # powers of two: their masked mean is exact in every natural summation order
    constant = {"adv": torch.where(mask.bool(), torch.full_like(adv, value), adv), "mask": mask, "eps": eps}
    assert_close(student.normalize_advantages(**constant), torch.zeros_like(adv), atol=1e-6,
                 what="the result for equal valid advantages", inputs=constant)
    varied = {**batch, "eps": eps}
    assert_close(student.normalize_advantages(**varied), ref.normalize_advantages(**varied), atol=norm_atol(batch),
                 inputs=varied)


@pytest.mark.points(1)
@given(batch=advantage_batches(), scale=st.sampled_from([0.25, 2.0, 8.0, -1.0]),
       shift=st.sampled_from([-3.0, 0.5, 10.0]))
@settings(max_examples=SECONDARY_EXAMPLES)
def test_invariant_to_shift_and_scale(student, batch, scale, shift):
    """With eps = 0, normalising scale * A + shift gives sign(scale) times the normalised A."""
    adv, mask = batch["adv"], batch["mask"]
    moved = {"adv": adv * scale + shift, "mask": mask, "eps": 0.0}
    expected = ref.normalize_advantages(adv, mask, eps=0.0) * (1.0 if scale > 0 else -1.0)
    atol = norm_atol(batch) * (1 + abs(shift) / max(1.0, largest(adv, mask)))
    assert_close(student.normalize_advantages(**moved), expected, atol=atol,
                 what="the normalised advantages of scale * A + shift", inputs=moved)


@pytest.mark.points(1)
@given(batch=advantage_batches(), eps=EPS, data=st.data())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_padding_values_do_not_matter(student, batch, eps, data):
    """Other advantage values at padded positions give the same (right) result, 0 on padding."""
    other = {**batch, "adv": other_padding(data, batch["adv"], batch["mask"]), "eps": eps}
    assert_close(student.normalize_advantages(**other), ref.normalize_advantages(**batch, eps=eps),
                 atol=norm_atol(batch), what="the result with other padding values", inputs=other)


@pytest.mark.points(1)
@given(batch=advantage_batches(dtype=torch.float32, mask_dtype=torch.float64), eps=EPS)
@settings(max_examples=SECONDARY_EXAMPLES)
def test_result_dtype_follows_adv_not_mask(student, batch, eps):
    """float32 advantages with a float64 mask still give a float32 result (the mask must not promote it)."""
    kwargs = {**batch, "eps": eps}
    assert_close(student.normalize_advantages(**kwargs), ref.normalize_advantages(**kwargs), atol=norm_atol(batch),
                 inputs=kwargs)


@pytest.mark.points(1)
@given(batch=advantage_batches())
@settings(max_examples=SECONDARY_EXAMPLES)
def test_does_not_modify_inputs(student, batch):
    """normalize_advantages leaves its input tensors unchanged (and returns the right result)."""
    result = student.call("normalize_advantages", **batch)
    assert not result.mutated, (
        f"normalize_advantages modified its input(s) in place: {', '.join(map(str, result.mutated))}")
    assert_close(result.value, ref.normalize_advantages(**batch), atol=norm_atol(batch), inputs=batch)
