"""Known mistakes in ``kto_loss`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _select(desirable, desirable_loss, undesirable_loss):
    return torch.where(desirable.bool(), desirable_loss, undesirable_loss)


@misconception("kto_loss", "uses kl_ref as the reference point without clamping it at 0")
def no_clamp(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = kl_ref.detach()
    r = pi_logps - ref_logps
    return _select(desirable, lambda_d * (1 - torch.sigmoid(beta * (r - z0))),
                   lambda_u * (1 - torch.sigmoid(beta * (z0 - r))))


@misconception("kto_loss", "uses one sign for both labels: undesirable examples also get 1 - sigmoid(beta (r - z0))")
def same_sign_for_both_labels(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = kl_ref.detach().clamp(min=0)
    r = pi_logps - ref_logps
    return _select(desirable, lambda_d * (1 - torch.sigmoid(beta * (r - z0))),
                   lambda_u * (1 - torch.sigmoid(beta * (r - z0))))


@misconception("kto_loss", "swaps the class weights: lambda_u on desirable examples, lambda_d on undesirable ones")
def swapped_weights(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = kl_ref.detach().clamp(min=0)
    r = pi_logps - ref_logps
    return _select(desirable, lambda_u * (1 - torch.sigmoid(beta * (r - z0))),
                   lambda_d * (1 - torch.sigmoid(beta * (z0 - r))))


@misconception("kto_loss", "scales only r by beta: sigmoid(beta r - z0) instead of sigmoid(beta (r - z0))")
def beta_only_on_r(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = kl_ref.detach().clamp(min=0)
    r = pi_logps - ref_logps
    return _select(desirable, lambda_d * (1 - torch.sigmoid(beta * r - z0)),
                   lambda_u * (1 - torch.sigmoid(z0 - beta * r)))


@misconception("kto_loss", "uses a DPO-style -logsigmoid instead of the saturating 1 - sigmoid")
def log_sigmoid_value(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = kl_ref.detach().clamp(min=0)
    r = pi_logps - ref_logps
    return _select(desirable, -lambda_d * F.logsigmoid(beta * (r - z0)), -lambda_u * F.logsigmoid(beta * (z0 - r)))


@misconception("kto_loss", "takes |kl_ref| as the reference point instead of max(kl_ref, 0)")
def absolute_kl(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = kl_ref.detach().abs()
    r = pi_logps - ref_logps
    return _select(desirable, lambda_d * (1 - torch.sigmoid(beta * (r - z0))),
                   lambda_u * (1 - torch.sigmoid(beta * (z0 - r))))


@misconception("kto_loss", "forms the likelihood ratio pi / pi_ref with exp(): 0/0 for log-probs near -1e4")
def ratio_of_probabilities(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = kl_ref.detach().clamp(min=0)
    r = torch.log(torch.exp(pi_logps) / torch.exp(ref_logps))
    return _select(desirable, lambda_d * (1 - torch.sigmoid(beta * (r - z0))),
                   lambda_u * (1 - torch.sigmoid(beta * (z0 - r))))


@rewrite("kto_loss", "1 - sigmoid(x) written as sigmoid(-x), labels mixed arithmetically with a 0/1 float weight")
def arithmetic_labels(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = torch.clamp(kl_ref, min=0.0).detach()
    x = beta * (pi_logps - ref_logps - z0)
    d = desirable.to(pi_logps.dtype)
    return d * lambda_d * torch.sigmoid(-x) + (1 - d) * lambda_u * torch.sigmoid(x)


@rewrite("kto_loss", "loops over examples with z0 = max(kl_ref.item(), 0) and 1 / (1 + exp(beta (r - z0)))")
def example_loop(pi_logps, ref_logps, desirable, kl_ref, beta=0.1, lambda_d=1.0, lambda_u=1.0):
    z0 = max(float(kl_ref), 0.0)
    losses = []
    for i in range(pi_logps.shape[0]):
        r = pi_logps[i] - ref_logps[i]
        if bool(desirable[i]):
            losses.append(lambda_d / (1 + torch.exp(beta * (r - z0))))
        else:
            losses.append(lambda_u / (1 + torch.exp(beta * (z0 - r))))
    return torch.stack(losses)
