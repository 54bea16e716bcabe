"""Known mistakes in ``aggregate_token_loss`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("aggregate_token_loss", '"seq_mean_token_mean" also counts the empty rows (divides by B)')
def counts_empty_rows(per_token, mask, mode, max_len=None):
    m = mask.to(per_token.dtype)
    if mode == "token_mean":
        return (per_token * m).sum() / m.sum()
    if mode == "seq_mean_token_mean":
        per_seq = (per_token * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        return per_seq.mean()
    return (per_token * m).sum() / (per_token.shape[0] * (max_len if max_len is not None else per_token.shape[1]))


@misconception("aggregate_token_loss", "divides rows by their length before dropping empty ones: NaN gradients")
def nan_gradient_on_empty_rows(per_token, mask, mode, max_len=None):
    m = mask.to(per_token.dtype)
    if mode == "token_mean":
        return (per_token * m).sum() / m.sum()
    if mode == "seq_mean_token_mean":
        lengths = m.sum(dim=1)
        per_seq = (per_token * m).sum(dim=1) / lengths             # NaN on empty rows ...
        return per_seq[lengths > 0].mean()                        # ... dropped here, but not from the gradient
    return (per_token * m).sum() / (per_token.shape[0] * (max_len if max_len is not None else per_token.shape[1]))


@misconception("aggregate_token_loss", '"seq_mean_token_sum_norm" divides by the longest length, not max_len or T')
def longest_length_norm(per_token, mask, mode, max_len=None):
    m = mask.to(per_token.dtype)
    if mode == "token_mean":
        return (per_token * m).sum() / m.sum()
    lengths = m.sum(dim=1)
    if mode == "seq_mean_token_mean":
        per_seq = (per_token * m).sum(dim=1) / lengths.clamp(min=1.0)
        return per_seq[lengths > 0].mean()
    return (per_token * m).sum() / (per_token.shape[0] * lengths.max().clamp(min=1.0))


@misconception("aggregate_token_loss", '"token_mean" and "seq_mean_token_mean" swapped')
def swapped_means(per_token, mask, mode, max_len=None):
    m = mask.to(per_token.dtype)
    if mode == "seq_mean_token_mean":
        return (per_token * m).sum() / m.sum()
    if mode == "token_mean":
        lengths = m.sum(dim=1)
        per_seq = (per_token * m).sum(dim=1) / lengths.clamp(min=1.0)
        return per_seq[lengths > 0].mean()
    return (per_token * m).sum() / (per_token.shape[0] * (max_len if max_len is not None else per_token.shape[1]))


@misconception("aggregate_token_loss", "ignores max_len (always divides by B * T)")
def ignores_max_len(per_token, mask, mode, max_len=None):
    m = mask.to(per_token.dtype)
    if mode == "token_mean":
        return (per_token * m).sum() / m.sum()
    if mode == "seq_mean_token_mean":
        lengths = m.sum(dim=1)
        per_seq = (per_token * m).sum(dim=1) / lengths.clamp(min=1.0)
        return per_seq[lengths > 0].mean()
    return (per_token * m).sum() / per_token.numel()


@misconception("aggregate_token_loss", "multiplies by the mask as given: a float64 mask promotes a float32 result")
def mask_promotes_dtype(per_token, mask, mode, max_len=None):
    m = mask if mask.is_floating_point() else mask.to(per_token.dtype)
    if mode == "token_mean":
        return (per_token * m).sum() / m.sum()
    if mode == "seq_mean_token_mean":
        lengths = m.sum(dim=1)
        per_seq = (per_token * m).sum(dim=1) / lengths.clamp(min=1.0)
        return per_seq[lengths > 0].mean()
    return (per_token * m).sum() / (per_token.shape[0] * (max_len if max_len is not None else per_token.shape[1]))


@rewrite("aggregate_token_loss", "loops over rows, selecting the valid prefix of each")
def row_loops(per_token, mask, mode, max_len=None):
    batch, seq = per_token.shape
    row_sums, row_lengths = [], []
    for b in range(batch):
        n = int(mask[b].to(torch.int64).sum())
        row_sums.append(per_token[b, :n].sum())
        row_lengths.append(n)
    total = torch.stack(row_sums).sum()
    if mode == "token_mean":
        return total / sum(row_lengths) if sum(row_lengths) else total * float("nan")
    if mode == "seq_mean_token_mean":
        means = [s / n for s, n in zip(row_sums, row_lengths) if n > 0]
        return torch.stack(means).mean() if means else total * float("nan")
    if mode == "seq_mean_token_sum_norm":
        return total / (batch * (seq if max_len is None else max_len))
    raise ValueError(f"unknown mode {mode!r}")


@rewrite("aggregate_token_loss", "one weight per token, built with torch.where; NaN weights when nothing is averaged")
def weight_matrix(per_token, mask, mode, max_len=None):
    valid = mask.bool()
    zero = torch.zeros_like(per_token)
    lengths = valid.sum(dim=1, keepdim=True).to(per_token.dtype)      # (B, 1)
    if mode == "token_mean":
        weight = 1.0 / lengths.sum()                                  # inf when there is no valid token
    elif mode == "seq_mean_token_mean":
        rows = (lengths > 0).sum().to(per_token.dtype)
        weight = 1.0 / (lengths.clamp(min=1.0) * rows)                # (B, 1); inf when every row is empty
    else:
        weight = 1.0 / (per_token.shape[0] * (max_len or per_token.shape[1])) + zero
    weights = torch.where(valid, weight + zero, zero)
    if torch.isinf(weight).all():                                      # nothing to average over: 0/0
        return per_token.sum() * float("nan")
    return (torch.where(valid, per_token, zero) * weights).sum()
