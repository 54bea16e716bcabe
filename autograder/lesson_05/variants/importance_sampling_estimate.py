"""Known mistakes in ``importance_sampling_estimate`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("importance_sampling_estimate", "inverts the ratio: w = behavior / target")
def inverted_ratio(f, logp_target, logp_behavior, weighted=False):
    w = torch.exp(logp_behavior - logp_target)
    return (w * f).sum() / w.sum() if weighted else (w * f).mean()


@misconception("importance_sampling_estimate", "w = exp(logp_target) / exp(logp_behavior): 0/0 for log-probs near -1e4")
def ratio_of_probabilities(f, logp_target, logp_behavior, weighted=False):
    w = torch.exp(logp_target) / torch.exp(logp_behavior)
    return (w * f).sum() / w.sum() if weighted else (w * f).mean()


@misconception("importance_sampling_estimate", "ignores `weighted`: always divides by N")
def always_ordinary(f, logp_target, logp_behavior, weighted=False):
    w = torch.exp(logp_target - logp_behavior)
    return (w * f).mean()


@misconception("importance_sampling_estimate", "always self-normalises: the ordinary estimate divides by sum(w) too")
def always_weighted(f, logp_target, logp_behavior, weighted=False):
    w = torch.exp(logp_target - logp_behavior)
    return (w * f).sum() / w.sum()


@misconception("importance_sampling_estimate", "uses the log-ratio itself as the weight (forgets the exp)")
def log_ratio_as_weight(f, logp_target, logp_behavior, weighted=False):
    w = logp_target - logp_behavior
    return (w * f).sum() / w.sum() if weighted else (w * f).mean()


@rewrite("importance_sampling_estimate", "weighted as softmax(log-ratios) . f; ordinary as exp(log-ratio) . f / N")
def softmax_form(f, logp_target, logp_behavior, weighted=False):
    log_w = logp_target - logp_behavior
    if weighted:
        return torch.dot(torch.softmax(log_w, dim=0), f)
    return torch.dot(torch.exp(log_w), f) / f.shape[0]


@rewrite("importance_sampling_estimate", "max-shifted weights in a loop: mean(w' f) / mean(w'), or exp(max) mean(w' f)")
def shifted_weights_loop(f, logp_target, logp_behavior, weighted=False):
    log_w = logp_target - logp_behavior
    top = log_w.max()
    num = torch.zeros((), dtype=f.dtype)
    den = torch.zeros((), dtype=f.dtype)
    for i in range(f.shape[0]):
        w = torch.exp(log_w[i] - top)
        num = num + w * f[i]
        den = den + w
    if weighted:
        return num / den
    return torch.exp(top) * num / f.shape[0]
