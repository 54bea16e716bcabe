"""Known mistakes in ``sapo_loss`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


def _seq_mean_token_mean(per_token, mask):
    """Mean per sequence, then over the sequences with a valid token (zero gradient on empty rows)."""
    m = mask.to(per_token.dtype)
    lengths = m.sum(dim=1)
    per_seq = (per_token * m).sum(dim=1) / lengths.clamp(min=1.0)
    return per_seq[lengths > 0].mean()


def _temperatures(advantages, tau_pos, tau_neg):
    adv = advantages[:, None]
    return adv, torch.where(adv > 0, torch.full_like(adv, tau_pos), torch.full_like(adv, tau_neg))


@misconception("sapo_loss", "swaps the temperatures: tau_neg for positive advantages, tau_pos otherwise")
def swapped_temperatures(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    adv, tau = _temperatures(advantages, tau_neg, tau_pos)
    gate = torch.sigmoid(tau * (torch.exp(logp - logp_old) - 1)) * 4 / tau
    return _seq_mean_token_mean(-gate * adv, mask)


@misconception("sapo_loss", "leaves out the 4/tau factor, so the on-policy gradient is tau/4 of the policy gradient")
def no_four_over_tau(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    adv, tau = _temperatures(advantages, tau_pos, tau_neg)
    gate = torch.sigmoid(tau * (torch.exp(logp - logp_old) - 1))
    return _seq_mean_token_mean(-gate * adv, mask)


@misconception("sapo_loss", "centres the gate at r = 0: sigmoid(tau * r) instead of sigmoid(tau * (r - 1))")
def gate_not_centred(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    adv, tau = _temperatures(advantages, tau_pos, tau_neg)
    gate = torch.sigmoid(tau * torch.exp(logp - logp_old)) * 4 / tau
    return _seq_mean_token_mean(-gate * adv, mask)


@misconception("sapo_loss", "averages over all valid tokens of the batch (token_mean) instead of per sequence first")
def token_mean(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    adv, tau = _temperatures(advantages, tau_pos, tau_neg)
    gate = torch.sigmoid(tau * (torch.exp(logp - logp_old) - 1)) * 4 / tau
    m = mask.to(logp.dtype)
    return (-gate * adv * m).sum() / m.sum()


@misconception("sapo_loss", "divides each row by its length without a guard: 0/0 on empty rows makes the gradient NaN")
def nan_gradient_on_empty_rows(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    adv, tau = _temperatures(advantages, tau_pos, tau_neg)
    gate = torch.sigmoid(tau * (torch.exp(logp - logp_old) - 1)) * 4 / tau
    m = mask.to(logp.dtype)
    per_seq = (-gate * adv * m).sum(dim=1) / m.sum(dim=1)
    return per_seq[~torch.isnan(per_seq)].mean()


@misconception("sapo_loss", "forms the ratio as exp(logp) / exp(logp_old): 0/0 for log-probs near -1e4")
def ratio_of_probabilities(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    adv, tau = _temperatures(advantages, tau_pos, tau_neg)
    gate = torch.sigmoid(tau * (torch.exp(logp) / torch.exp(logp_old) - 1)) * 4 / tau
    return _seq_mean_token_mean(-gate * adv, mask)


@misconception("sapo_loss", "multiplies by the mask as given, so a float64 mask turns a float32 loss into float64")
def mask_promotes_dtype(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    adv, tau = _temperatures(advantages, tau_pos, tau_neg)
    gate = torch.sigmoid(tau * (torch.exp(logp - logp_old) - 1)) * 4 / tau
    m = mask if mask.is_floating_point() else mask.to(logp.dtype)
    lengths = m.sum(dim=1)
    per_seq = (-gate * adv * m).sum(dim=1) / lengths.clamp(min=1.0)
    return per_seq[lengths > 0].mean()


@rewrite("sapo_loss", "loops over rows and valid prefixes, with the gate written as 1 / (1 + exp(-tau (r - 1)))")
def row_loop(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    rows = []
    for b in range(logp.shape[0]):
        n = int(mask[b].to(torch.int64).sum())
        if n == 0:
            continue
        a = advantages[b]
        tau = tau_pos if a > 0 else tau_neg
        r = torch.exp(logp[b, :n] - logp_old[b, :n])
        gate = (4.0 / tau) / (1.0 + torch.exp(-tau * (r - 1.0)))
        rows.append((-gate * a).mean())
    if not rows:
        return torch.tensor(float("nan"), dtype=logp.dtype)
    return torch.stack(rows).mean()


@rewrite("sapo_loss", "tanh form 2/tau (1 + tanh(tau (r - 1) / 2)), tau chosen by A >= 0 (A = 0 adds nothing), "
                      "torch.where masking and a 0/1 weight per non-empty row")
def tanh_gate(logp, logp_old, advantages, mask, tau_pos=1.0, tau_neg=1.05):
    valid = mask.bool()
    adv = advantages.unsqueeze(1)
    tau = torch.where(adv >= 0, torch.full_like(adv, tau_pos), torch.full_like(adv, tau_neg))
    ratio = torch.exp(torch.where(valid, logp - logp_old, torch.zeros_like(logp)))
    gate = (2.0 / tau) * (1.0 + torch.tanh(0.5 * tau * (ratio - 1.0)))
    per_token = torch.where(valid, -gate * adv, torch.zeros_like(logp))
    counts = valid.sum(dim=1).to(logp.dtype)
    per_seq = per_token.sum(dim=1) / torch.maximum(counts, torch.ones_like(counts))
    rows = (counts > 0).to(logp.dtype)
    return (per_seq * rows).sum() / rows.sum()
