"""Known mistakes in ``bce_with_logits`` and independent correct rewrites.

Variants that call the forbidden built-ins are in ``_forbidden.py`` (the framework's detector rejects them).
"""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


@misconception("bce_with_logits", "textbook -[y log sigmoid(x) + (1-y) log(1 - sigmoid(x))]: log(0) for |x| ~ 1e4")
def log_of_sigmoid(logits, targets):
    p = torch.sigmoid(logits)
    return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()


@misconception("bce_with_logits", "clamps the probabilities to [1e-7, 1 - 1e-7] before the log: finite but wrong "
               "for large logits")
def clamped_probabilities(logits, targets):
    p = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
    return -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()


@misconception("bce_with_logits", "softplus as log(1 + exp(x)): exp overflows for large positive logits")
def softplus_overflows(logits, targets):
    return (torch.log(1 + torch.exp(logits)) - targets * logits).mean()


@misconception("bce_with_logits", "softplus as x + log(1 + exp(-x)): exp overflows for large negative logits")
def softplus_overflows_negative(logits, targets):
    return (logits + torch.log(1 + torch.exp(-logits)) - targets * logits).mean()


@misconception("bce_with_logits", "sums the per-element losses instead of averaging them")
def sum_not_mean(logits, targets):
    return (F.softplus(logits) - targets * logits).sum()


@misconception("bce_with_logits", "swaps the roles of the labels: softplus(x) - (1 - y) x")
def swapped_labels(logits, targets):
    return (F.softplus(logits) - (1 - targets) * logits).mean()


@misconception("bce_with_logits", "keeps only the positive-label term -y log sigmoid(x) (forgets (1 - y))")
def positive_term_only(logits, targets):
    return (-targets * F.logsigmoid(logits)).mean()


@rewrite("bce_with_logits", "-(y logsigmoid(x) + (1 - y) logsigmoid(-x)), averaged")
def logsigmoid_form(logits, targets):
    return -(targets * F.logsigmoid(logits) + (1 - targets) * F.logsigmoid(-logits)).mean()


@rewrite("bce_with_logits", "max(x, 0) - x y + log1p(exp(-|x|)), summed and divided by numel")
def max_abs_form(logits, targets):
    per_element = torch.clamp(logits, min=0) - logits * targets + torch.log1p(torch.exp(-logits.abs()))
    return per_element.sum() / logits.numel()


@misconception("bce_with_logits", "uses the forbidden built-in F.binary_cross_entropy_with_logits")
def builtin_bce_with_logits(logits, targets):
    return F.binary_cross_entropy_with_logits(logits, targets)


@misconception("bce_with_logits", "uses the forbidden built-in torch.nn.BCEWithLogitsLoss")
def builtin_bce_with_logits_module(logits, targets):
    return torch.nn.BCEWithLogitsLoss()(logits, targets)


@misconception("bce_with_logits", "uses the forbidden built-in F.binary_cross_entropy on sigmoid(x) (it clamps log "
               "at -100, so it is also wrong for |x| > 100)")
def builtin_bce_on_sigmoid(logits, targets):
    return F.binary_cross_entropy(torch.sigmoid(logits), targets)
