"""Known mistakes in ``kl_categorical`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


@misconception("kl_categorical", "computes the reverse direction KL(Q || P)")
def reverse_direction(p_logits, q_logits):
    log_p = torch.log_softmax(p_logits, dim=-1)
    log_q = torch.log_softmax(q_logits, dim=-1)
    return (log_q.exp() * (log_q - log_p)).sum(dim=-1)


@misconception("kl_categorical", "takes log(softmax(x)): log 0 = -inf and 0 * inf = NaN once a probability underflows")
def log_of_softmax(p_logits, q_logits):
    p, q = torch.softmax(p_logits, dim=-1), torch.softmax(q_logits, dim=-1)
    return (p * (torch.log(p) - torch.log(q))).sum(dim=-1)


@misconception("kl_categorical", "normalises P but uses q_logits directly as log q (forgets Q's log-partition)")
def unnormalised_q(p_logits, q_logits):
    log_p = torch.log_softmax(p_logits, dim=-1)
    return (log_p.exp() * (log_p - q_logits)).sum(dim=-1)


@misconception("kl_categorical", "averages the terms over the vocabulary instead of summing them")
def mean_over_vocabulary(p_logits, q_logits):
    log_p = torch.log_softmax(p_logits, dim=-1)
    log_q = torch.log_softmax(q_logits, dim=-1)
    return (log_p.exp() * (log_p - log_q)).mean(dim=-1)


@misconception("kl_categorical", "softmax by hand without subtracting the max: exp(1e4) overflows to inf")
def naive_softmax(p_logits, q_logits):
    p = torch.exp(p_logits) / torch.exp(p_logits).sum(dim=-1, keepdim=True)
    q = torch.exp(q_logits) / torch.exp(q_logits).sum(dim=-1, keepdim=True)
    return (p * torch.log(p / q)).sum(dim=-1)


@misconception("kl_categorical", "weights the log-ratio by Q's probabilities: sum q (log p - log q) = -KL(Q || P)")
def weights_by_q(p_logits, q_logits):
    log_p = torch.log_softmax(p_logits, dim=-1)
    log_q = torch.log_softmax(q_logits, dim=-1)
    return (log_q.exp() * (log_p - log_q)).sum(dim=-1)


@misconception("kl_categorical", "reduces over the first dimension (dim=0) instead of the last")
def wrong_axis(p_logits, q_logits):
    log_p = torch.log_softmax(p_logits, dim=0)
    log_q = torch.log_softmax(q_logits, dim=0)
    return (log_p.exp() * (log_p - log_q)).sum(dim=0)


@rewrite("kl_categorical", "cross-entropy minus entropy, with logsumexp normalisers written out")
def cross_entropy_minus_entropy(p_logits, q_logits):
    log_p = p_logits - torch.logsumexp(p_logits, dim=-1, keepdim=True)
    log_q = q_logits - torch.logsumexp(q_logits, dim=-1, keepdim=True)
    p = torch.softmax(p_logits, dim=-1)
    return -(p * log_q).sum(dim=-1) - (-(p * log_p).sum(dim=-1))


@rewrite("kl_categorical", "F.kl_div with log targets (input log q, target log p), summed over the last dim")
def torch_kl_div(p_logits, q_logits):
    return F.kl_div(F.log_softmax(q_logits, dim=-1), F.log_softmax(p_logits, dim=-1), reduction="none",
                    log_target=True).sum(dim=-1)
