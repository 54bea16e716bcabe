"""Known mistakes in ``cross_entropy`` and independent correct rewrites.

Variants that call the forbidden built-ins are in ``_forbidden.py`` (the framework's detector rejects them).
"""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _stable_log_softmax(x, dim=-1):
    c = x.amax(dim=dim, keepdim=True)
    return x - c - torch.log(torch.exp(x - c).sum(dim=dim, keepdim=True))


@misconception("cross_entropy", "sums the per-sample losses instead of averaging them over N")
def sum_over_samples(logits, targets):
    logp = _stable_log_softmax(logits)
    return -logp.gather(1, targets[:, None]).sum()


@misconception("cross_entropy", "takes log(softmax) with a raw exp(): inf/inf and log(0) for |logits| ~ 1e4")
def log_of_softmax(logits, targets):
    e = torch.exp(logits)
    probs = e / e.sum(dim=1, keepdim=True)
    return -torch.log(probs.gather(1, targets[:, None])).mean()


@misconception("cross_entropy", "indexes logp[:, targets] (an N x N block) and averages it: mixes up the samples")
def fancy_index_block(logits, targets):
    logp = _stable_log_softmax(logits)
    return -logp[:, targets].mean()


@misconception("cross_entropy", "normalises over the batch axis (softmax over dim 0) instead of over the classes")
def softmax_over_batch(logits, targets):
    logp = _stable_log_softmax(logits, dim=0)
    return -logp.gather(1, targets[:, None]).mean()


@misconception("cross_entropy", "averages -onehot * log p over all N * C entries (divides by N C instead of N)")
def mean_over_all_entries(logits, targets):
    logp = _stable_log_softmax(logits)
    onehot = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    return -(onehot * logp).mean()


@misconception("cross_entropy", "forgets the minus sign: returns the mean log-likelihood (a reward, not a loss)")
def mean_log_likelihood(logits, targets):
    logp = _stable_log_softmax(logits)
    return logp.gather(1, targets[:, None]).mean()


@misconception("cross_entropy", "drops the normaliser: -mean(logits[n, t_n]) (the log-sum-exp term is missing)")
def no_normaliser(logits, targets):
    return -logits.gather(1, targets[:, None]).mean()


@rewrite("cross_entropy", "a Python loop over samples: logsumexp(row) - row[target], summed, divided by N")
def loop_over_samples(logits, targets):
    total = torch.zeros((), dtype=logits.dtype)
    for row, target in zip(logits, targets.tolist()):
        total = total + torch.logsumexp(row, dim=0) - row[target]
    return total / logits.shape[0]


@rewrite("cross_entropy", "one-hot targets: sum(onehot * (logsumexp - logits)) / N")
def one_hot_form(logits, targets):
    n, c = logits.shape
    onehot = torch.zeros(n, c, dtype=logits.dtype)
    onehot[torch.arange(n), targets] = 1.0
    lse = torch.logsumexp(logits, dim=1, keepdim=True)
    return (onehot * (lse - logits)).sum() / n


@misconception("cross_entropy", "uses the forbidden built-in F.cross_entropy")
def builtin_cross_entropy(logits, targets):
    return F.cross_entropy(logits, targets)


@misconception("cross_entropy", "uses the forbidden built-ins F.nll_loss and F.log_softmax")
def builtin_nll_loss(logits, targets):
    return F.nll_loss(F.log_softmax(logits, dim=-1), targets)


@misconception("cross_entropy", "uses the forbidden built-in torch.nn.CrossEntropyLoss")
def builtin_cross_entropy_module(logits, targets):
    return torch.nn.CrossEntropyLoss()(logits, targets)


@misconception("cross_entropy", "uses the forbidden built-in torch.log_softmax, then gathers")
def builtin_log_softmax_gather(logits, targets):
    return -torch.log_softmax(logits, dim=1).gather(1, targets[:, None]).mean()
