"""Known mistakes in ``sft_loss`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _nll(logits, targets):
    return -F.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


@misconception("sft_loss", "uses the mask of the predicting position (loss_mask[:, :-1]) instead of the target's")
def mask_of_the_input_position(logits, input_ids, loss_mask):
    m = loss_mask[:, :-1].to(logits.dtype)
    return (_nll(logits[:, :-1], input_ids[:, 1:]) * m).sum() / m.sum()


@misconception("sft_loss", "no shift: scores logits[:, t] against input_ids[:, t]")
def no_shift(logits, input_ids, loss_mask):
    m = loss_mask[:, 1:].to(logits.dtype)
    return (_nll(logits[:, 1:], input_ids[:, 1:]) * m).sum() / m.sum()


@misconception("sft_loss", "averages per sequence, then over sequences (sequence mean, not token mean)")
def sequence_mean(logits, input_ids, loss_mask):
    m = loss_mask[:, 1:].to(logits.dtype)
    per_row = (_nll(logits[:, :-1], input_ids[:, 1:]) * m).sum(dim=1) / m.sum(dim=1)
    return per_row[m.sum(dim=1) > 0].mean()


@misconception("sft_loss", "sums the token losses instead of averaging them")
def sum_not_mean(logits, input_ids, loss_mask):
    m = loss_mask[:, 1:].to(logits.dtype)
    return (_nll(logits[:, :-1], input_ids[:, 1:]) * m).sum()


@misconception("sft_loss", "divides by every position (B * (T - 1)), not by the number of targets")
def divides_by_all_positions(logits, input_ids, loss_mask):
    m = loss_mask[:, 1:].to(logits.dtype)
    nll = _nll(logits[:, :-1], input_ids[:, 1:])
    return (nll * m).sum() / nll.numel()


@misconception("sft_loss", "log(softmax(x)): -inf (then inf or NaN) for large logits")
def log_of_softmax(logits, input_ids, loss_mask):
    probs = torch.softmax(logits[:, :-1], dim=-1).gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    m = loss_mask[:, 1:].to(logits.dtype)
    return (-torch.log(probs) * m).sum() / m.sum()


@misconception("sft_loss", "multiplies by the mask as given: a float64 mask promotes a float32 loss")
def mask_promotes(logits, input_ids, loss_mask):
    m = loss_mask[:, 1:]
    m = m if m.is_floating_point() else m.to(logits.dtype)
    return (_nll(logits[:, :-1], input_ids[:, 1:]) * m).sum() / m.sum()


@rewrite("sft_loss", "F.cross_entropy(reduction='none') on flattened positions, then a masked mean")
def cross_entropy_flat(logits, input_ids, loss_mask):
    v = logits.shape[-1]
    per_token = F.cross_entropy(logits[:, :-1].reshape(-1, v), input_ids[:, 1:].reshape(-1), reduction="none")
    weights = loss_mask[:, 1:].reshape(-1).to(logits.dtype)
    return torch.dot(per_token, weights) / weights.sum()


@rewrite("sft_loss", "boolean selection of the counted positions, logsumexp minus the target logit, .mean()")
def select_then_mean(logits, input_ids, loss_mask):
    keep = loss_mask[:, 1:].bool()                                   # (B, T-1)
    z = logits[:, :-1][keep]                                         # (N, V)
    targets = input_ids[:, 1:][keep]                                 # (N,)
    nll = torch.logsumexp(z, dim=-1) - z[torch.arange(z.shape[0]), targets]
    return nll.mean()                                                # mean of nothing is NaN
