"""Known mistakes in ``cpi_mixture`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("cpi_mixture", "swaps the weights: alpha pi_old + (1 - alpha) pi_new")
def swapped_weights(pi_old, pi_new, alpha):
    return alpha * pi_old + (1 - alpha) * pi_new


@misconception("cpi_mixture", "mixes the log-probabilities (a geometric mixture, renormalised): a different policy")
def geometric_mixture(pi_old, pi_new, alpha):
    logits = (1 - alpha) * torch.log(pi_old) + alpha * torch.log(pi_new)
    return torch.softmax(logits, dim=-1)


@misconception("cpi_mixture", "updates pi_old in place (pi_old.mul_(1 - alpha).add_(alpha * pi_new))")
def in_place(pi_old, pi_new, alpha):
    return pi_old.mul_(1 - alpha).add_(alpha * pi_new)


@misconception("cpi_mixture", "picks one policy instead of mixing: pi_new if alpha >= 0.5 else pi_old")
def picks_one(pi_old, pi_new, alpha):
    return (pi_new if alpha >= 0.5 else pi_old).clone()


@misconception("cpi_mixture",
               "mixes in the greedy (argmax) version of pi_new, as if the target had to be deterministic")
def greedy_target(pi_old, pi_new, alpha):
    greedy = torch.nn.functional.one_hot(pi_new.argmax(dim=-1), pi_new.shape[-1]).to(pi_old.dtype)
    return (1 - alpha) * pi_old + alpha * greedy


@misconception("cpi_mixture", "adds the two policies without renormalising: pi_old + alpha pi_new")
def unnormalised(pi_old, pi_new, alpha):
    return pi_old + alpha * pi_new


@rewrite("cpi_mixture", "moves from pi_old towards pi_new: pi_old + alpha (pi_new - pi_old)")
def step_towards(pi_old, pi_new, alpha):
    return pi_old + alpha * (pi_new - pi_old)


@rewrite("cpi_mixture", "torch.lerp")
def lerp(pi_old, pi_new, alpha):
    return torch.lerp(pi_old, pi_new, alpha)
