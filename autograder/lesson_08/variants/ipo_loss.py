"""Known mistakes in ``ipo_loss`` and an independent correct rewrite."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("ipo_loss", "targets a margin of 1/beta instead of 1/(2 beta)")
def target_one_over_beta(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    h = (pi_chosen - ref_chosen) - (pi_rejected - ref_rejected)
    return (h - 1 / beta) ** 2


@misconception("ipo_loss", "scales the log-ratio margin by beta, as in DPO's logit")
def beta_scaled_margin(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    h = beta * ((pi_chosen - ref_chosen) - (pi_rejected - ref_rejected))
    return (h - 1 / (2 * beta)) ** 2


@misconception("ipo_loss", "averages the losses over the batch instead of returning one per pair")
def batch_mean(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    h = (pi_chosen - ref_chosen) - (pi_rejected - ref_rejected)
    return ((h - 1 / (2 * beta)) ** 2).mean()


@misconception("ipo_loss", "swaps the roles of chosen and rejected in the margin")
def swapped_margin(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    h = (pi_rejected - ref_rejected) - (pi_chosen - ref_chosen)
    return (h - 1 / (2 * beta)) ** 2


@rewrite("ipo_loss", "expands the square and regroups policy and reference terms")
def expanded(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    policy_margin = pi_chosen - pi_rejected
    reference_margin = ref_chosen - ref_rejected
    gap = policy_margin - reference_margin - 0.5 / beta
    return gap * gap


@misconception("ipo_loss", "forms the likelihood ratios pi / pi_ref with exp(): 0/0 for log-probs near -1e4")
def ratio_of_probabilities(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    chosen = torch.log(torch.exp(pi_chosen) / torch.exp(ref_chosen))
    rejected = torch.log(torch.exp(pi_rejected) / torch.exp(ref_rejected))
    h = chosen - rejected
    return (h - 1 / (2 * beta)) ** 2


@misconception("ipo_loss", "leaves out the reference model: regresses the raw policy margin pi_c - pi_r")
def no_reference(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    h = pi_chosen - pi_rejected
    return (h - 1 / (2 * beta)) ** 2


@misconception("ipo_loss", "uses the absolute distance |h - 1/(2 beta)| instead of its square")
def absolute_distance(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    h = (pi_chosen - ref_chosen) - (pi_rejected - ref_rejected)
    return (h - 1 / (2 * beta)).abs()


@rewrite("ipo_loss", "sums the four signed log-probs with torch.stack and rescales: ((2 beta h - 1) / (2 beta))^2")
def stacked_and_rescaled(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1):
    h = torch.stack([pi_chosen, -ref_chosen, -pi_rejected, ref_rejected]).sum(dim=0)
    return torch.square((2 * beta * h - 1) / (2 * beta))
