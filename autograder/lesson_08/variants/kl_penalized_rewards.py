"""Known mistakes in ``kl_penalized_rewards`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _last_valid(mask, dtype):
    m = mask.to(dtype)
    next_valid = torch.cat([m[:, 1:], torch.zeros_like(m[:, :1])], dim=1)
    return m, m * (1 - next_valid)


@misconception("kl_penalized_rewards", "puts the score on the last column, whatever the padding")
def score_on_last_column(scores, logp, logp_ref, mask, beta):
    m = mask.to(logp.dtype)
    rewards = -beta * (logp - logp_ref) * m
    last_column = torch.zeros_like(rewards)
    last_column[:, -1] = scores
    return rewards + last_column


@misconception("kl_penalized_rewards", "rewards the KL: +beta * (logp - logp_ref)")
def sign_flipped(scores, logp, logp_ref, mask, beta):
    m, is_last = _last_valid(mask, logp.dtype)
    return beta * (logp - logp_ref) * m + scores[:, None] * is_last


@misconception("kl_penalized_rewards", "does not mask the KL penalty: padded positions get -beta * log-ratio")
def unmasked_penalty(scores, logp, logp_ref, mask, beta):
    _, is_last = _last_valid(mask, logp.dtype)
    return -beta * (logp - logp_ref) + scores[:, None] * is_last


@misconception("kl_penalized_rewards", "indexes the last token as length - 1: an empty row gets its score at index -1")
def empty_row_scored_at_end(scores, logp, logp_ref, mask, beta):
    m = mask.to(logp.dtype)
    rewards = -beta * (logp - logp_ref) * m
    last = m.sum(dim=1).long() - 1                                   # -1 for an empty row wraps to T - 1
    rows = torch.arange(logp.shape[0])
    bonus = torch.zeros_like(rewards)
    bonus[rows, last] = scores
    return rewards + bonus


@misconception("kl_penalized_rewards", "replaces the penalty by the score on the last token instead of adding both")
def score_replaces_penalty(scores, logp, logp_ref, mask, beta):
    m, is_last = _last_valid(mask, logp.dtype)
    penalty = -beta * (logp - logp_ref) * m
    return torch.where(is_last.bool(), scores[:, None].expand_as(penalty), penalty)


@misconception("kl_penalized_rewards", "multiplies by the mask as given: a float64 mask promotes float32 rewards")
def mask_promotes_dtype(scores, logp, logp_ref, mask, beta):
    m = mask if mask.is_floating_point() else mask.to(logp.dtype)
    next_valid = torch.cat([m[:, 1:], torch.zeros_like(m[:, :1])], dim=1)
    return -beta * (logp - logp_ref) * m + scores[:, None] * (m * (1 - next_valid))


@misconception("kl_penalized_rewards", "builds the log-ratio in place in logp (logp.sub_(logp_ref))")
def log_ratio_in_place(scores, logp, logp_ref, mask, beta):
    m, is_last = _last_valid(mask, logp.dtype)
    log_ratio = logp.sub_(logp_ref)
    return -beta * log_ratio * m + scores[:, None] * is_last


@rewrite("kl_penalized_rewards", "loops over rows, filling the first n tokens of a zero tensor")
def row_loops(scores, logp, logp_ref, mask, beta):
    rewards = torch.zeros_like(logp)
    for b in range(logp.shape[0]):
        n = int(mask[b].to(torch.int64).sum())
        if n == 0:
            continue
        rewards[b, :n] = beta * (logp_ref[b, :n] - logp[b, :n])
        rewards[b, n - 1] = rewards[b, n - 1] + scores[b]
    return rewards


@rewrite("kl_penalized_rewards", "one-hot of the lengths for the score and torch.where for the padding")
def one_hot_lengths(scores, logp, logp_ref, mask, beta):
    valid = mask.bool()
    lengths = valid.sum(dim=1)                                       # (B,)
    # one_hot(length) has its 1 just past the last valid token; shift it back, drop empty rows
    past_end = F.one_hot(lengths, num_classes=logp.shape[1] + 1)[:, 1:].to(logp.dtype)
    penalty = torch.where(valid, beta * logp_ref - beta * logp, torch.zeros_like(logp))
    return penalty + past_end * scores[:, None]
