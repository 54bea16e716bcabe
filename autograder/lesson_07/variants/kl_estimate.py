"""Known mistakes in ``kl_estimate`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("kl_estimate", "uses the log-ratio the other way round (logp - logp_ref) in every estimator")
def flipped_log_ratio(logp, logp_ref, kind):
    log_ratio = logp - logp_ref
    if kind == "k1":
        return -log_ratio
    if kind == "k2":
        return log_ratio ** 2 / 2
    if kind == "k3":
        return torch.exp(log_ratio) - 1 - log_ratio
    raise ValueError(kind)


@misconception("kl_estimate", "k2 without the 1/2: log_ratio ** 2")
def k2_without_half(logp, logp_ref, kind):
    log_ratio = logp_ref - logp
    if kind == "k1":
        return -log_ratio
    if kind == "k2":
        return log_ratio ** 2
    if kind == "k3":
        return torch.exp(log_ratio) - 1 - log_ratio
    raise ValueError(kind)


@misconception("kl_estimate", "k3 with the wrong sign on the log-ratio: exp(r) - 1 + r")
def k3_sign(logp, logp_ref, kind):
    log_ratio = logp_ref - logp
    if kind == "k1":
        return -log_ratio
    if kind == "k2":
        return log_ratio ** 2 / 2
    if kind == "k3":
        return torch.exp(log_ratio) - 1 + log_ratio
    raise ValueError(kind)


@misconception("kl_estimate", "forms the ratio as exp(logp_ref) / exp(logp): 0/0 = NaN for log-probs near -1e4")
def ratio_of_probabilities(logp, logp_ref, kind):
    ratio = torch.exp(logp_ref) / torch.exp(logp)
    log_ratio = torch.log(ratio)
    if kind == "k1":
        return -log_ratio
    if kind == "k2":
        return log_ratio ** 2 / 2
    if kind == "k3":
        return ratio - 1 - log_ratio
    raise ValueError(kind)


@misconception("kl_estimate", "makes k1 non-negative with abs(): |log_ratio| is biased")
def absolute_k1(logp, logp_ref, kind):
    log_ratio = logp_ref - logp
    if kind == "k1":
        return log_ratio.abs()
    if kind == "k2":
        return log_ratio ** 2 / 2
    if kind == "k3":
        return torch.exp(log_ratio) - 1 - log_ratio
    raise ValueError(kind)


@misconception("kl_estimate", "averages the estimates instead of returning one per sample")
def averaged(logp, logp_ref, kind):
    log_ratio = logp_ref - logp
    if kind == "k1":
        return (-log_ratio).mean()
    if kind == "k2":
        return (log_ratio ** 2 / 2).mean()
    if kind == "k3":
        return (torch.exp(log_ratio) - 1 - log_ratio).mean()
    raise ValueError(kind)


@misconception("kl_estimate", "computes the log-ratio in place in logp_ref (logp_ref.sub_(logp)): the input changes")
def in_place_log_ratio(logp, logp_ref, kind):
    log_ratio = logp_ref.sub_(logp.detach())
    if kind == "k1":
        return -log_ratio + 0 * logp
    if kind == "k2":
        return log_ratio ** 2 / 2 + 0 * logp
    if kind == "k3":
        return torch.exp(log_ratio) - 1 - log_ratio + 0 * logp
    raise ValueError(kind)


@rewrite("kl_estimate", "expm1 for k3, a dict of lambdas, and log pi - log pi_ref for k1")
def expm1_table(logp, logp_ref, kind):
    estimators = {
        "k1": lambda: logp - logp_ref,
        "k2": lambda: 0.5 * (logp - logp_ref) * (logp - logp_ref),
        "k3": lambda: torch.expm1(logp_ref - logp) + (logp - logp_ref),
    }
    if kind not in estimators:
        raise ValueError(f"unknown kind {kind!r}")
    return estimators[kind]()


@rewrite("kl_estimate", "torch.neg / torch.square, and k3 through the ratio r = exp(log_ratio) as (r - 1) - log_ratio")
def through_ratio(logp, logp_ref, kind):
    diff = logp_ref - logp
    if kind == "k1":
        return torch.neg(diff)
    if kind == "k2":
        return torch.square(diff) / 2
    if kind == "k3":
        r = torch.exp(diff)
        return (r - 1) - diff
    raise ValueError(kind)
