"""Known mistakes in ``shifted_token_logprobs`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _logprobs(logits, labels):
    return F.log_softmax(logits, dim=-1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)


@misconception("shifted_token_logprobs", "shifts the wrong way: logits[:, 1:] scored against input_ids[:, :-1]")
def shifted_backwards(logits, input_ids):
    return _logprobs(logits[:, 1:], input_ids[:, :-1])


@misconception("shifted_token_logprobs", "forgets to shift the labels: logits[:, :-1] with input_ids[:, :-1]")
def labels_not_shifted(logits, input_ids):
    return _logprobs(logits[:, :-1], input_ids[:, :-1])


@misconception("shifted_token_logprobs", "drops the first logits instead of the last: logits[:, 1:] with input_ids[:, 1:]")
def drops_first_logits(logits, input_ids):
    return _logprobs(logits[:, 1:], input_ids[:, 1:])


@misconception("shifted_token_logprobs", "log(softmax(x)): -inf for large logits")
def log_of_softmax(logits, input_ids):
    probs = torch.softmax(logits[:, :-1], dim=-1)
    return torch.log(probs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1))


@misconception("shifted_token_logprobs", "keeps T columns, padding the last one with 0 (shape [B, T])")
def pads_to_full_length(logits, input_ids):
    return F.pad(_logprobs(logits[:, :-1], input_ids[:, 1:]), (0, 1))


@rewrite("shifted_token_logprobs", "narrow() views and chosen logit minus logsumexp")
def narrowed(logits, input_ids):
    t = logits.shape[1]
    z = logits.narrow(1, 0, t - 1)
    ids = input_ids.narrow(1, 1, t - 1)
    return torch.take_along_dim(z, ids[..., None], dim=-1)[..., 0] - torch.logsumexp(z, dim=-1)


@rewrite("shifted_token_logprobs", "loops over positions, each a log_softmax of one time step")
def per_position(logits, input_ids):
    b, t, _ = logits.shape
    columns = [F.log_softmax(logits[:, i], dim=-1)[torch.arange(b), input_ids[:, i + 1]] for i in range(t - 1)]
    if not columns:
        return logits.new_zeros(b, 0)
    return torch.stack(columns, dim=1)
