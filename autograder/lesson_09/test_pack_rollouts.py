"""Hidden tests for ``pack_rollouts``: prompt + response, right-padded; masks set by position, all int64."""

import pytest
import torch
from hypothesis import given, settings

from autograder.lesson_09.strategies import rollouts
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("pack_rollouts")
NAMES = ("input_ids", "attention_mask", "response_mask")


def check_structure(got: object, inputs: dict) -> None:
    """A tuple of three int64 tensors of one [B, L] shape, with a message that says which part is off."""
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise AssertionError(f"pack_rollouts should return a tuple (input_ids, attention_mask, response_mask), "
                             f"got {got!r}\n  inputs: {inputs}")
    for name, t in zip(NAMES, got):
        if not isinstance(t, torch.Tensor) or t.dtype != torch.int64:
            kind = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
            raise AssertionError(f"{name} should be an int64 tensor, got {kind}\n  inputs: {inputs}")
        if t.shape != got[0].shape or t.dim() != 2:
            raise AssertionError(f"{name} has shape {tuple(t.shape)}; all three should be [B, L] like input_ids "
                                 f"{tuple(got[0].shape)}\n  inputs: {inputs}")


@pytest.mark.points(3)
@given(batch=rollouts())
def test_matches_reference(student, batch):
    """input_ids and both masks match on random batches (empty prompts/responses, pad_id inside the content)."""
    got = student.pack_rollouts(**batch)
    check_structure(got, batch)
    for name, g, e in zip(NAMES, got, ref.pack_rollouts(**batch)):
        assert_close(g, e, what=name, inputs=batch)


@pytest.mark.points(2)
def test_masks_by_position_when_pad_id_is_content(student):
    """When pad_id also occurs as a real token (EOS reused as padding), those tokens stay in both masks."""
    eos = 50256
    batch = {"prompts": [[eos, 31, 7], [12]], "responses": [[5, eos], [eos, eos, 9, eos]], "pad_id": eos}
    got = student.pack_rollouts(**batch)
    check_structure(got, batch)
    expected = (torch.tensor([[eos, 31, 7, 5, eos], [12, eos, eos, 9, eos]]),
                torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]),
                torch.tensor([[0, 0, 0, 1, 1], [0, 1, 1, 1, 1]]))
    for name, g, e in zip(NAMES, got, expected):
        assert_close(g, e, what=name, inputs=batch)
    batch = {"prompts": [[0, 0], [3]], "responses": [[0], []], "pad_id": 0}
    got = student.pack_rollouts(**batch)
    check_structure(got, batch)
    expected = (torch.tensor([[0, 0, 0], [3, 0, 0]]), torch.tensor([[1, 1, 1], [1, 0, 0]]),
                torch.tensor([[0, 0, 1], [0, 0, 0]]))
    for name, g, e in zip(NAMES, got, expected):
        assert_close(g, e, what=name, inputs=batch)


@pytest.mark.points(1)
@settings(max_examples=15)
@given(batch=rollouts())
def test_masks_recover_prompts_and_responses(student, batch):
    """The masks read the batch back: real tokens = prompt + response, response tokens = response, pad_id after."""
    got = student.pack_rollouts(**batch)
    check_structure(got, batch)
    input_ids, attention_mask, response_mask = got
    lengths = [len(p) + len(r) for p, r in zip(batch["prompts"], batch["responses"])]
    expected_shape = (len(lengths), max(lengths))
    assert tuple(input_ids.shape) == expected_shape, (
        f"the batch should have shape (B, L) = {expected_shape} (L = the longest prompt + response), "
        f"got {tuple(input_ids.shape)}\n  inputs: {batch}")
    for b, (prompt, response) in enumerate(zip(batch["prompts"], batch["responses"])):
        real = input_ids[b][attention_mask[b] == 1].tolist()
        generated = input_ids[b][response_mask[b] == 1].tolist()
        padding = input_ids[b][attention_mask[b] == 0].tolist()
        assert real == prompt + response, (f"row {b}: the tokens where attention_mask is 1 are {real}, expected the "
                                           f"prompt + response {prompt + response}\n  inputs: {batch}")
        assert generated == response, (f"row {b}: the tokens where response_mask is 1 are {generated}, expected the "
                                       f"response {response}\n  inputs: {batch}")
        assert attention_mask[b].tolist() == [1] * lengths[b] + [0] * (expected_shape[1] - lengths[b]), (
            f"row {b}: attention_mask should be {lengths[b]} ones then zeros, got {attention_mask[b].tolist()}"
            f"\n  inputs: {batch}")
        assert padding == [batch["pad_id"]] * len(padding), (
            f"row {b}: padded positions should hold pad_id={batch['pad_id']}, got {padding}\n  inputs: {batch}")


@pytest.mark.points(1)
def test_empty_prompts_and_responses(student):
    """Empty prompts and empty responses pack correctly (an empty response has an all-zero response_mask)."""
    batch = {"prompts": [[], [4, 4], [1]], "responses": [[8, 9, 7], [], []], "pad_id": 1}
    got = student.pack_rollouts(**batch)
    check_structure(got, batch)
    expected = (torch.tensor([[8, 9, 7], [4, 4, 1], [1, 1, 1]]),
                torch.tensor([[1, 1, 1], [1, 1, 0], [1, 0, 0]]),
                torch.tensor([[1, 1, 1], [0, 0, 0], [0, 0, 0]]))
    for name, g, e in zip(NAMES, got, expected):
        assert_close(g, e, what=name, inputs=batch)

