"""Known mistakes in ``gspo_loss`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _gspo_from_log_ratio(seq_log_ratio, lengths, advantages, eps):
    """The clipped sequence objective, shared by the misconceptions that get s_b (or the mean) wrong."""
    s = torch.exp(seq_log_ratio)
    per_seq = -torch.minimum(s * advantages, torch.clamp(s, 1 - eps, 1 + eps) * advantages)
    return per_seq[lengths > 0].mean()


@misconception("gspo_loss", "clips each token's ratio (as in GRPO) instead of the sequence ratio")
def token_level_clip(logp, logp_old, advantages, mask, eps=3e-4):
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    ratio = torch.exp(logp - logp_old)
    adv = advantages[:, None]
    per_token = -torch.minimum(ratio * adv, torch.clamp(ratio, 1 - eps, 1 + eps) * adv)
    per_seq = (per_token * m).sum(dim=1) / lengths.clamp(min=1)
    return per_seq[lengths > 0].mean()


@misconception("gspo_loss", "uses the raw sequence ratio exp(sum of log-ratios), without the 1/|y| normalisation")
def unnormalised_sequence_ratio(logp, logp_old, advantages, mask, eps=3e-4):
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    return _gspo_from_log_ratio(((logp - logp_old) * m).sum(dim=1), lengths, advantages, eps)


@misconception("gspo_loss", "takes the arithmetic mean of the token ratios instead of their geometric mean")
def arithmetic_mean_ratio(logp, logp_old, advantages, mask, eps=3e-4):
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    s = (torch.exp(logp - logp_old) * m).sum(dim=1) / lengths.clamp(min=1)
    per_seq = -torch.minimum(s * advantages, torch.clamp(s, 1 - eps, 1 + eps) * advantages)
    return per_seq[lengths > 0].mean()


@misconception("gspo_loss", "takes the max of the two terms instead of the pessimistic min")
def max_instead_of_min(logp, logp_old, advantages, mask, eps=3e-4):
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    s = torch.exp(((logp - logp_old) * m).sum(dim=1) / lengths.clamp(min=1))
    per_seq = -torch.maximum(s * advantages, torch.clamp(s, 1 - eps, 1 + eps) * advantages)
    return per_seq[lengths > 0].mean()


@misconception("gspo_loss", "averages over all B rows, counting the rows that have no valid token")
def counts_empty_rows(logp, logp_old, advantages, mask, eps=3e-4):
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    s = torch.exp(((logp - logp_old) * m).sum(dim=1) / lengths.clamp(min=1))
    per_seq = -torch.minimum(s * advantages, torch.clamp(s, 1 - eps, 1 + eps) * advantages)
    return (per_seq * (lengths > 0).to(logp.dtype)).mean()


@misconception("gspo_loss", "divides by the row length without guarding empty rows: 0/0 makes their gradient NaN")
def nan_gradient_on_empty_rows(logp, logp_old, advantages, mask, eps=3e-4):
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    return _gspo_from_log_ratio(((logp - logp_old) * m).sum(dim=1) / lengths, lengths, advantages, eps)


@misconception("gspo_loss", "forms the token ratios as exp(logp) / exp(logp_old): 0/0 for log-probs near -1e4")
def ratio_of_probabilities(logp, logp_old, advantages, mask, eps=3e-4):
    m = mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    log_ratio = torch.log(torch.exp(logp) / torch.exp(logp_old))
    return _gspo_from_log_ratio((log_ratio * m).sum(dim=1) / lengths.clamp(min=1), lengths, advantages, eps)


@misconception("gspo_loss", "multiplies by the mask as given, so a float64 mask turns a float32 loss into float64")
def mask_promotes_dtype(logp, logp_old, advantages, mask, eps=3e-4):
    m = mask if mask.is_floating_point() else mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    return _gspo_from_log_ratio(((logp - logp_old) * m).sum(dim=1) / lengths.clamp(min=1), lengths, advantages, eps)


@rewrite("gspo_loss", "loops over rows, slices the valid prefix, and clips by the sign of A (min/max with one bound)")
def row_loop(logp, logp_old, advantages, mask, eps=3e-4):
    terms = []
    for b in range(logp.shape[0]):
        n = int(mask[b].to(torch.int64).sum())
        if n == 0:
            continue
        s = torch.exp((logp[b, :n] - logp_old[b, :n]).mean())
        a = advantages[b]
        # A >= 0: min(s A, clip(s) A) = A min(s, 1+eps); A < 0: it is A max(s, 1-eps)
        term = a * torch.clamp(s, max=1 + eps) if a >= 0 else a * torch.clamp(s, min=1 - eps)
        terms.append(-term)
    if not terms:
        return torch.tensor(float("nan"), dtype=logp.dtype)
    return torch.stack(terms).mean()


@rewrite("gspo_loss", "torch.where on the mask, clips log s in log space, and weights rows by a 0/1 'non-empty' mask")
def log_space_clip(logp, logp_old, advantages, mask, eps=3e-4):
    valid = mask.bool()
    counts = valid.sum(dim=1).to(logp.dtype)
    log_ratio = torch.where(valid, logp - logp_old, torch.zeros_like(logp))
    log_s = log_ratio.sum(dim=1) / torch.where(counts > 0, counts, torch.ones_like(counts))
    log_s_clipped = torch.clamp(log_s, torch.log1p(torch.tensor(-eps, dtype=logp.dtype)),
                                torch.log1p(torch.tensor(eps, dtype=logp.dtype)))
    objective = torch.minimum(torch.exp(log_s) * advantages, torch.exp(log_s_clipped) * advantages)
    rows = (counts > 0).to(logp.dtype)
    return -(objective * rows).sum() / rows.sum()
