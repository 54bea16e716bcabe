"""Known mistakes in ``adam_step`` and independent correct rewrites."""

import math

import torch

from rlgrade.testing import misconception, rewrite


@misconception("adam_step", "no bias correction: steps with m' / (sqrt(v') + eps)")
def no_bias_correction(param, grad, m, v, t, lr, beta1, beta2, eps):
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad ** 2
    return param - lr * new_m / (torch.sqrt(new_v) + eps), new_m, new_v


@misconception("adam_step", "adds eps inside the square root: sqrt(v_hat + eps)")
def eps_inside_root(param, grad, m, v, t, lr, beta1, beta2, eps):
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = new_m / (1 - beta1 ** t), new_v / (1 - beta2 ** t)
    return param - lr * m_hat / torch.sqrt(v_hat + eps), new_m, new_v


@misconception("adam_step", "treats t as 0-based: corrects with 1 - beta^(t + 1)")
def zero_based_t(param, grad, m, v, t, lr, beta1, beta2, eps):
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = new_m / (1 - beta1 ** (t + 1)), new_v / (1 - beta2 ** (t + 1))
    return param - lr * m_hat / (torch.sqrt(v_hat) + eps), new_m, new_v


@misconception("adam_step", "returns the bias-corrected m_hat, v_hat as the new state (corrects again next step)")
def returns_corrected_moments(param, grad, m, v, t, lr, beta1, beta2, eps):
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = new_m / (1 - beta1 ** t), new_v / (1 - beta2 ** t)
    return param - lr * m_hat / (torch.sqrt(v_hat) + eps), m_hat, v_hat


@misconception("adam_step", "swaps the betas: m decays with beta2 and v with beta1")
def swapped_betas(param, grad, m, v, t, lr, beta1, beta2, eps):
    new_m = beta2 * m + (1 - beta2) * grad
    new_v = beta1 * v + (1 - beta1) * grad ** 2
    m_hat, v_hat = new_m / (1 - beta2 ** t), new_v / (1 - beta1 ** t)
    return param - lr * m_hat / (torch.sqrt(v_hat) + eps), new_m, new_v


@misconception("adam_step", "second moment of |g| instead of g^2")
def abs_second_moment(param, grad, m, v, t, lr, beta1, beta2, eps):
    new_m = beta1 * m + (1 - beta1) * grad
    new_v = beta2 * v + (1 - beta2) * grad.abs()
    m_hat, v_hat = new_m / (1 - beta1 ** t), new_v / (1 - beta2 ** t)
    return param - lr * m_hat / (torch.sqrt(v_hat) + eps), new_m, new_v


@misconception("adam_step", "updates the state in place like torch.optim (m.mul_().add_(), param.addcdiv_())")
def in_place(param, grad, m, v, t, lr, beta1, beta2, eps):
    m.mul_(beta1).add_(grad, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = (v / (1 - beta2 ** t)).sqrt().add_(eps)
    param.addcdiv_(m, denom, value=-lr / (1 - beta1 ** t))
    return param, m, v


@rewrite("adam_step", "the paper's efficient form: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), eps_hat = eps sqrt(1 - b2^t)")
def efficient_form(param, grad, m, v, t, lr, beta1, beta2, eps):
    new_m = m + (1 - beta1) * (grad - m)
    new_v = v + (1 - beta2) * (grad * grad - v)
    root = math.sqrt(1 - beta2 ** t)
    step_size = lr * root / (1 - beta1 ** t)
    return param - step_size * new_m / (new_v.sqrt() + eps * root), new_m, new_v


@rewrite("adam_step", "clones, then torch.optim-style in-place updates on the clones (lerp_, addcmul_, addcdiv_)")
def optim_style_on_clones(param, grad, m, v, t, lr, beta1, beta2, eps):
    p, m2, v2 = param.clone(), m.clone(), v.clone()
    m2.lerp_(grad, 1 - beta1)
    v2.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bias1, bias2 = 1 - beta1 ** t, 1 - beta2 ** t
    denom = (v2.sqrt() / math.sqrt(bias2)).add_(eps)
    p.addcdiv_(m2, denom, value=-lr / bias1)
    return p, m2, v2
