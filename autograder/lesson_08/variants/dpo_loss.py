"""Known mistakes in ``dpo_loss`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _rewards(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta):
    return (beta * (pi_chosen - ref_chosen)).detach(), (beta * (pi_rejected - ref_rejected)).detach()


@misconception("dpo_loss", "computes log(sigmoid(z)): -inf (an infinite loss) once |z| is in the hundreds")
def log_of_sigmoid(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    z = beta * ((pi_chosen - ref_chosen) - (pi_rejected - ref_rejected))
    losses = -(1 - label_smoothing) * torch.log(torch.sigmoid(z)) - label_smoothing * torch.log(torch.sigmoid(-z))
    return (losses, *_rewards(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta))


@misconception("dpo_loss", "returns the implicit rewards without detaching them")
def rewards_not_detached(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    z = beta * ((pi_chosen - ref_chosen) - (pi_rejected - ref_rejected))
    losses = -(1 - label_smoothing) * F.logsigmoid(z) - label_smoothing * F.logsigmoid(-z)
    return losses, beta * (pi_chosen - ref_chosen), beta * (pi_rejected - ref_rejected)


@misconception("dpo_loss", "leaves beta out of z (uses it only for the logged rewards)")
def beta_missing_from_z(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    z = (pi_chosen - ref_chosen) - (pi_rejected - ref_rejected)
    losses = -(1 - label_smoothing) * F.logsigmoid(z) - label_smoothing * F.logsigmoid(-z)
    return (losses, *_rewards(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta))


@misconception("dpo_loss", "puts the weights of label smoothing the wrong way round: ls on logsigmoid(z)")
def smoothing_swapped(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    z = beta * ((pi_chosen - ref_chosen) - (pi_rejected - ref_rejected))
    losses = -label_smoothing * F.logsigmoid(z) - (1 - label_smoothing) * F.logsigmoid(-z)
    return (losses, *_rewards(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta))


@misconception("dpo_loss", "forms the likelihood ratios pi / pi_ref with exp(): 0/0 for log-probs near -1e4")
def ratio_of_probabilities(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    chosen = torch.log(torch.exp(pi_chosen) / torch.exp(ref_chosen))
    rejected = torch.log(torch.exp(pi_rejected) / torch.exp(ref_rejected))
    z = beta * (chosen - rejected)
    losses = -(1 - label_smoothing) * F.logsigmoid(z) - label_smoothing * F.logsigmoid(-z)
    return losses, (beta * chosen).detach(), (beta * rejected).detach()


@misconception("dpo_loss", "leaves out the reference model: z = beta * (pi_chosen - pi_rejected)")
def no_reference(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    z = beta * (pi_chosen - pi_rejected)
    losses = -(1 - label_smoothing) * F.logsigmoid(z) - label_smoothing * F.logsigmoid(-z)
    return (losses, *_rewards(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta))


@misconception("dpo_loss", "returns the batch mean of the losses instead of one loss per pair")
def batch_mean(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    z = beta * ((pi_chosen - ref_chosen) - (pi_rejected - ref_rejected))
    losses = -(1 - label_smoothing) * F.logsigmoid(z) - label_smoothing * F.logsigmoid(-z)
    return (losses.mean(), *_rewards(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta))


@rewrite("dpo_loss", "softplus form (1-ls) softplus(-z) + ls softplus(z); rewards computed under torch.no_grad()")
def softplus_form(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    z = beta * (pi_chosen - ref_chosen) - beta * (pi_rejected - ref_rejected)
    losses = (1 - label_smoothing) * F.softplus(-z) + label_smoothing * F.softplus(z)
    with torch.no_grad():
        chosen_rewards = beta * (pi_chosen - ref_chosen)
        rejected_rewards = beta * (pi_rejected - ref_rejected)
    return losses, chosen_rewards, rejected_rewards


@rewrite("dpo_loss", "regroups z as policy margin minus reference margin, logaddexp(0, -z) + ls * z, detached inputs "
                     "for the rewards")
def logaddexp_form(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    policy_margin = pi_chosen - pi_rejected
    reference_margin = ref_chosen - ref_rejected
    z = beta * (policy_margin - reference_margin)
    # -(1-ls) log s(z) - ls log s(-z) = softplus(-z) + ls z, since log s(-z) = log s(z) - z
    losses = torch.logaddexp(torch.zeros_like(z), -z) + label_smoothing * z
    return losses, beta * (pi_chosen.detach() - ref_chosen), beta * (pi_rejected.detach() - ref_rejected)
