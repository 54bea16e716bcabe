"""Known mistakes in ``token_logprobs`` and independent correct rewrites."""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


def _pick(values, labels):
    return values.gather(-1, labels.unsqueeze(-1)).squeeze(-1)


@misconception("token_logprobs", "log(softmax(x)): a probability that underflows gives -inf for large logits")
def log_of_softmax(logits, labels):
    return _pick(torch.log(torch.softmax(logits, dim=-1)), labels)


@misconception("token_logprobs", "gathers the raw logit, forgetting to subtract logsumexp")
def raw_logits(logits, labels):
    return _pick(logits, labels)


@misconception("token_logprobs", "normalises over the time axis (log_softmax(dim=1)) instead of the vocabulary")
def softmax_over_time(logits, labels):
    return _pick(F.log_softmax(logits, dim=1), labels)


@misconception("token_logprobs", "returns probabilities instead of log-probabilities")
def probabilities(logits, labels):
    return _pick(torch.softmax(logits, dim=-1), labels)


@misconception("token_logprobs", "returns the negative log-likelihood (wrong sign)")
def negative_log_likelihood(logits, labels):
    return -_pick(F.log_softmax(logits, dim=-1), labels)


@misconception("token_logprobs", "logsumexp as log(sum(exp(x))) without subtracting the max: overflows")
def naive_logsumexp(logits, labels):
    return _pick(logits, labels) - torch.log(torch.exp(logits).sum(dim=-1))


@rewrite("token_logprobs", "chosen logit minus torch.logsumexp")
def logit_minus_logsumexp(logits, labels):
    chosen = torch.take_along_dim(logits, labels[..., None], dim=-1)[..., 0]
    return chosen - torch.logsumexp(logits, dim=-1)


@rewrite("token_logprobs", "one-hot selection of an explicitly max-shifted log-softmax")
def one_hot_max_shift(logits, labels):
    shifted = logits - logits.max(dim=-1, keepdim=True).values.detach()
    logp = shifted - torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))
    one_hot = F.one_hot(labels, logits.shape[-1]).to(logits.dtype)
    return (one_hot * logp).sum(dim=-1)
