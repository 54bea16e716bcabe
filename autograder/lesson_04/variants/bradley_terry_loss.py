"""Known mistakes in ``bradley_terry_loss`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


@misconception("bradley_terry_loss", "flips the margin: -log sigmoid(r_rejected - r_chosen)")
def flipped_margin(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(rejected_rewards - chosen_rewards).mean()


@misconception("bradley_terry_loss", "sums over the pairs instead of averaging")
def summed(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(chosen_rewards - rejected_rewards).sum()


@misconception("bradley_terry_loss", "log(sigmoid(m)): -inf, so an infinite loss, for margins near -1e4")
def log_of_sigmoid(chosen_rewards, rejected_rewards):
    return -torch.log(torch.sigmoid(chosen_rewards - rejected_rewards)).mean()


@misconception("bradley_terry_loss", "minimises -sigmoid(margin) (the probability) instead of its negative log")
def probability_not_log(chosen_rewards, rejected_rewards):
    return -torch.sigmoid(chosen_rewards - rejected_rewards).mean()


@misconception("bradley_terry_loss", "two independent binary classifiers: -log s(r_c) - log s(-r_r) (not a difference)")
def independent_classifiers(chosen_rewards, rejected_rewards):
    return (-F.logsigmoid(chosen_rewards) - F.logsigmoid(-rejected_rewards)).mean()


@misconception("bradley_terry_loss", "returns the per-pair losses instead of their mean")
def per_pair(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(chosen_rewards - rejected_rewards)


@misconception("bradley_terry_loss", "log(1 + exp(-m)) written out: exp overflows to inf for margins near -1e4")
def naive_softplus(chosen_rewards, rejected_rewards):
    return torch.log1p(torch.exp(rejected_rewards - chosen_rewards)).mean()


@rewrite("bradley_terry_loss", "softplus of the negative margin")
def softplus_form(chosen_rewards, rejected_rewards):
    return F.softplus(rejected_rewards - chosen_rewards).mean()


@rewrite("bradley_terry_loss", "manual stable form relu(-m) + log1p(exp(-|m|)), summed and divided by B")
def manual_stable(chosen_rewards, rejected_rewards):
    m = chosen_rewards - rejected_rewards
    per_pair = torch.relu(-m) + torch.log1p(torch.exp(-m.abs()))
    return per_pair.sum() / m.shape[0]


@rewrite("bradley_terry_loss", "softplus(m) - m, from log sigmoid(m) = m - softplus(m)")
def softplus_minus_margin(chosen_rewards, rejected_rewards):
    m = chosen_rewards - rejected_rewards
    return (F.softplus(m) - m).mean()


@rewrite("bradley_terry_loss", "torch.logaddexp(0, -m)")
def logaddexp_form(chosen_rewards, rejected_rewards):
    m = chosen_rewards - rejected_rewards
    return torch.logaddexp(torch.zeros_like(m), -m).mean()
