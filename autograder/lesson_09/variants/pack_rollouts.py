"""Known mistakes in ``pack_rollouts`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _rows(prompts, responses):
    return [list(p) + list(r) for p, r in zip(prompts, responses)]


@misconception("pack_rollouts", "attention_mask by value (input_ids != pad_id): real tokens equal to pad_id are lost")
def attention_by_value(prompts, responses, pad_id):
    rows = _rows(prompts, responses)
    length = max(map(len, rows))
    ids = torch.tensor([row + [pad_id] * (length - len(row)) for row in rows], dtype=torch.int64)
    attention = (ids != pad_id).long()
    response = torch.tensor([[0] * len(p) + [1] * len(r) + [0] * (length - len(p) - len(r))
                             for p, r in zip(prompts, responses)], dtype=torch.int64)
    return ids, attention, response


@misconception("pack_rollouts", "pads on the left (generation-style) instead of the right")
def left_padding(prompts, responses, pad_id):
    rows = _rows(prompts, responses)
    length = max(map(len, rows))
    ids = torch.tensor([[pad_id] * (length - len(row)) + row for row in rows], dtype=torch.int64)
    attention = torch.tensor([[0] * (length - len(row)) + [1] * len(row) for row in rows], dtype=torch.int64)
    response = torch.tensor([[0] * (length - len(p) - len(r)) + [0] * len(p) + [1] * len(r)
                             for p, r in zip(prompts, responses)], dtype=torch.int64)
    return ids, attention, response


@misconception("pack_rollouts", "response_mask marks the prompt too (a copy of attention_mask)")
def response_mask_is_attention(prompts, responses, pad_id):
    rows = _rows(prompts, responses)
    length = max(map(len, rows))
    ids = torch.tensor([row + [pad_id] * (length - len(row)) for row in rows], dtype=torch.int64)
    attention = torch.tensor([[1] * len(row) + [0] * (length - len(row)) for row in rows], dtype=torch.int64)
    return ids, attention, attention.clone()


@misconception("pack_rollouts", "shifts response_mask one position left (the positions that predict response tokens)")
def response_mask_shifted(prompts, responses, pad_id):
    rows = _rows(prompts, responses)
    length = max(map(len, rows))
    ids = torch.tensor([row + [pad_id] * (length - len(row)) for row in rows], dtype=torch.int64)
    attention = torch.tensor([[1] * len(row) + [0] * (length - len(row)) for row in rows], dtype=torch.int64)
    response = torch.zeros(len(rows), length, dtype=torch.int64)
    for b, (p, r) in enumerate(zip(prompts, responses)):
        if r:
            response[b, max(len(p) - 1, 0):len(p) + len(r) - 1] = 1
    return ids, attention, response


@misconception("pack_rollouts", "returns bool masks instead of int64")
def bool_masks(prompts, responses, pad_id):
    rows = _rows(prompts, responses)
    length = max(map(len, rows))
    ids = torch.tensor([row + [pad_id] * (length - len(row)) for row in rows], dtype=torch.int64)
    positions = torch.arange(length)
    starts = torch.tensor([len(p) for p in prompts])[:, None]
    ends = torch.tensor([len(row) for row in rows])[:, None]
    return ids, positions < ends, (positions >= starts) & (positions < ends)


@misconception("pack_rollouts", "pads to the longest prompt plus the longest response, not the longest row")
def too_long(prompts, responses, pad_id):
    length = max(map(len, prompts)) + max(map(len, responses))
    rows = _rows(prompts, responses)
    ids = torch.tensor([row + [pad_id] * (length - len(row)) for row in rows], dtype=torch.int64)
    attention = torch.tensor([[1] * len(row) + [0] * (length - len(row)) for row in rows], dtype=torch.int64)
    response = torch.tensor([[0] * len(p) + [1] * len(r) + [0] * (length - len(p) - len(r))
                             for p, r in zip(prompts, responses)], dtype=torch.int64)
    return ids, attention, response


@rewrite("pack_rollouts", "pads Python lists first, then one torch.tensor call per output")
def padded_lists(prompts, responses, pad_id):
    length = max(len(p) + len(r) for p, r in zip(prompts, responses))
    ids, attention, response = [], [], []
    for p, r in zip(prompts, responses):
        pad = length - len(p) - len(r)
        ids.append(list(p) + list(r) + [pad_id] * pad)
        attention.append([1] * (len(p) + len(r)) + [0] * pad)
        response.append([0] * len(p) + [1] * len(r) + [0] * pad)
    as_tensor = lambda rows: torch.tensor(rows, dtype=torch.int64)
    return as_tensor(ids), as_tensor(attention), as_tensor(response)


@rewrite("pack_rollouts", "pad_sequence for the ids, masks compared against arange of the lengths")
def pad_sequence_and_arange(prompts, responses, pad_id):
    seqs = [torch.tensor(list(p) + list(r), dtype=torch.long) for p, r in zip(prompts, responses)]
    ids = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=pad_id)
    positions = torch.arange(ids.shape[1]).unsqueeze(0)
    prompt_len = torch.tensor([len(p) for p in prompts]).unsqueeze(1)
    total_len = torch.tensor([len(s) for s in seqs]).unsqueeze(1)
    attention = (positions < total_len).long()
    response = ((positions >= prompt_len) & (positions < total_len)).long()
    return ids, attention, response
