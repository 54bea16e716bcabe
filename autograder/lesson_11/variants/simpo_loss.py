"""Known mistakes in ``simpo_loss`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


@misconception("simpo_loss", "scales the target margin by beta too: -logsigmoid(beta * (margin - gamma))")
def beta_scales_gamma(pi_chosen_avg, pi_rejected_avg, beta=2.0, gamma=0.5):
    return -F.logsigmoid(beta * (pi_chosen_avg - pi_rejected_avg - gamma))


@misconception("simpo_loss", "adds the target margin instead of subtracting it")
def margin_added(pi_chosen_avg, pi_rejected_avg, beta=2.0, gamma=0.5):
    return -F.logsigmoid(beta * (pi_chosen_avg - pi_rejected_avg) + gamma)


@misconception("simpo_loss", "computes log(sigmoid(z)): -log(0) = inf once z is very negative (margins ~1e4)")
def log_of_sigmoid(pi_chosen_avg, pi_rejected_avg, beta=2.0, gamma=0.5):
    return -torch.log(torch.sigmoid(beta * (pi_chosen_avg - pi_rejected_avg) - gamma))


@misconception("simpo_loss", "writes the softplus as log(1 + exp(-z)): exp overflows for very negative z")
def naive_softplus(pi_chosen_avg, pi_rejected_avg, beta=2.0, gamma=0.5):
    z = beta * (pi_chosen_avg - pi_rejected_avg) - gamma
    return torch.log(1 + torch.exp(-z))


@misconception("simpo_loss", "averages the losses over the batch instead of returning one per pair")
def batch_mean(pi_chosen_avg, pi_rejected_avg, beta=2.0, gamma=0.5):
    return -F.logsigmoid(beta * (pi_chosen_avg - pi_rejected_avg) - gamma).mean()


@misconception("simpo_loss", "swaps chosen and rejected in the margin")
def swapped_margin(pi_chosen_avg, pi_rejected_avg, beta=2.0, gamma=0.5):
    return -F.logsigmoid(beta * (pi_rejected_avg - pi_chosen_avg) - gamma)


@rewrite("simpo_loss", "softplus of the negated logit, with beta distributed over both averages")
def softplus_form(pi_chosen_avg, pi_rejected_avg, beta=2.0, gamma=0.5):
    return F.softplus(gamma - beta * pi_chosen_avg + beta * pi_rejected_avg)


@rewrite("simpo_loss", "hand-written stable softplus, one branch per sign of z (inputs clamped so both stay finite)")
def branchwise_softplus(pi_chosen_avg, pi_rejected_avg, beta=2.0, gamma=0.5):
    z = beta * (pi_chosen_avg - pi_rejected_avg) - gamma
    z_pos, z_neg = z.clamp(min=0.0), z.clamp(max=0.0)
    # -log sigmoid(z) = log(1 + e^-z) for z >= 0, and -z + log(1 + e^z) for z < 0
    return torch.where(z >= 0, torch.log1p(torch.exp(-z_pos)), -z_neg + torch.log1p(torch.exp(z_neg)))
