"""Known mistakes in ``entropy_from_logits`` and independent correct rewrites."""

import math

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


@misconception("entropy_from_logits", "uses log base 2 (bits) instead of the natural log (nats)")
def bits(logits):
    logp = F.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum(dim=-1) / math.log(2.0)


@misconception("entropy_from_logits", "p * log(p) from softmax: 0 * log 0 = NaN once a probability underflows")
def p_log_p_of_softmax(logits):
    p = torch.softmax(logits, dim=-1)
    return -(p * torch.log(p)).sum(dim=-1)


@misconception("entropy_from_logits", "forgets the minus sign (returns -H)")
def missing_minus(logits):
    logp = F.log_softmax(logits, dim=-1)
    return (logp.exp() * logp).sum(dim=-1)


@misconception("entropy_from_logits", "uses the raw logits in place of log-probabilities: -sum p z")
def logits_for_logp(logits):
    return -(torch.softmax(logits, dim=-1) * logits).sum(dim=-1)


@misconception("entropy_from_logits", "averages over the vocabulary instead of summing")
def mean_over_vocab(logits):
    logp = F.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).mean(dim=-1)


@misconception("entropy_from_logits", "logsumexp as log(sum(exp(z))) minus sum p z: overflows for large logits")
def naive_logsumexp(logits):
    p = torch.softmax(logits, dim=-1)
    return torch.log(torch.exp(logits).sum(dim=-1)) - (p * logits).sum(dim=-1)


@rewrite("entropy_from_logits", "logsumexp(z) - sum softmax(z) z")
def logsumexp_form(logits):
    return torch.logsumexp(logits, dim=-1) - (torch.softmax(logits, dim=-1) * logits).sum(dim=-1)


@rewrite("entropy_from_logits", "explicit max shift: log s - sum e (z - max) / s with e = exp(z - max)")
def max_shifted(logits):
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    e = torch.exp(shifted)
    s = e.sum(dim=-1)
    return torch.log(s) - (e * shifted).sum(dim=-1) / s
