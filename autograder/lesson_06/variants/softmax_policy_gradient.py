"""Known mistakes in ``softmax_policy_gradient`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("softmax_policy_gradient", "drops the baseline: returns pi * r instead of pi * (r - pi . r)")
def no_baseline(logits, rewards):
    probs = torch.softmax(logits, dim=-1)
    return probs * rewards


@misconception("softmax_policy_gradient",
               "uses the plain mean reward as the baseline instead of the expected reward pi . r")
def mean_reward_baseline(logits, rewards):
    probs = torch.softmax(logits, dim=-1)
    return probs * (rewards - rewards.mean())


@misconception("softmax_policy_gradient", "keeps only the diagonal of the softmax Jacobian: pi * (1 - pi) * r")
def diagonal_jacobian(logits, rewards):
    probs = torch.softmax(logits, dim=-1)
    return probs * (1 - probs) * rewards


@misconception("softmax_policy_gradient",
               "differentiates sum_a r_a log pi_a instead of sum_a pi_a r_a: r - pi * sum(r)")
def gradient_of_weighted_logprobs(logits, rewards):
    probs = torch.softmax(logits, dim=-1)
    return rewards - probs * rewards.sum()


@misconception("softmax_policy_gradient", "leaves out the factor pi_a: returns the advantage r - pi . r itself")
def missing_probability_factor(logits, rewards):
    probs = torch.softmax(logits, dim=-1)
    return rewards - (probs * rewards).sum()


@misconception("softmax_policy_gradient",
               "computes the softmax as exp(x) / sum(exp(x)): inf / inf = NaN for logits near 1e4")
def unstable_softmax(logits, rewards):
    e = torch.exp(logits)
    probs = e / e.sum()
    return probs * (rewards - (probs * rewards).sum())


@misconception("softmax_policy_gradient", "flips the sign (the gradient of -J, as if it were a loss)")
def flipped_sign(logits, rewards):
    probs = torch.softmax(logits, dim=-1)
    return -probs * (rewards - (probs * rewards).sum())


@rewrite("softmax_policy_gradient", "multiplies the softmax Jacobian diag(pi) - pi pi^T by the rewards")
def jacobian_product(logits, rewards):
    probs = torch.softmax(logits, dim=0)
    jacobian = torch.diag(probs) - torch.outer(probs, probs)             # d pi_b / d theta_a, symmetric
    return jacobian @ rewards


@rewrite("softmax_policy_gradient", "lets autograd differentiate sum(softmax(theta) * r) on a detached copy")
def autograd_inside(logits, rewards):
    theta = logits.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        objective = torch.dot(torch.softmax(theta, dim=0), rewards)
        (grad,) = torch.autograd.grad(objective, theta)
    return grad


@rewrite("softmax_policy_gradient",
         "the score-function form: E_pi[(e_a - pi) r_a] summed over actions, via log_softmax")
def score_function_sum(logits, rewards):
    log_probs = torch.log_softmax(logits, dim=0)
    probs = log_probs.exp()
    grad = torch.zeros_like(logits)
    for a in range(logits.shape[0]):
        score = -probs.clone()
        score[a] += 1.0                                                  # grad of log pi_a = e_a - pi
        grad = grad + probs[a] * rewards[a] * score
    return grad
