"""Known mistakes in ``preference_probability`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("preference_probability", "reversed: sigmoid(r_b - r_a)")
def reversed_difference(r_a, r_b):
    return torch.sigmoid(r_b - r_a)


@misconception("preference_probability", "exp(r_a) / (exp(r_a) + exp(r_b)): inf / inf = NaN for large rewards")
def ratio_of_exponentials(r_a, r_b):
    ea, eb = torch.exp(r_a), torch.exp(r_b)
    return ea / (ea + eb)


@misconception("preference_probability", "treats rewards as strengths: r_a / (r_a + r_b)")
def ratio_of_rewards(r_a, r_b):
    return r_a / (r_a + r_b)


@misconception("preference_probability", "softmax of r_a - r_b over the batch instead of an elementwise sigmoid")
def softmax_over_batch(r_a, r_b):
    d = r_a - r_b
    return torch.softmax(d.reshape(-1), dim=0).reshape(d.shape)


@misconception("preference_probability", "Elo's base-10 curve without the scale: 1 / (1 + 10^(r_b - r_a))")
def base_ten(r_a, r_b):
    return 1.0 / (1.0 + torch.pow(10.0, r_b - r_a))


@rewrite("preference_probability", "0.5 * (1 + tanh((r_a - r_b) / 2))")
def tanh_form(r_a, r_b):
    return 0.5 * (1.0 + torch.tanh((r_a - r_b) / 2))


@rewrite("preference_probability", "softmax over the stacked pair (r_a, r_b), first entry")
def softmax_of_pair(r_a, r_b):
    return torch.softmax(torch.stack([r_a, r_b]), dim=0)[0]


@rewrite("preference_probability", "1 / (1 + exp(-(r_a - r_b))): exp overflows to inf, and 1 / inf = 0 is exact")
def reciprocal(r_a, r_b):
    return 1.0 / (1.0 + torch.exp(-(r_a - r_b)))
