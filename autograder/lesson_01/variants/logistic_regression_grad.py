"""Known mistakes in ``logistic_regression_grad`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("logistic_regression_grad", "sums over the samples instead of averaging (gradient of the summed loss)")
def sum_over_samples(X, y, w):
    return X.T @ (torch.sigmoid(X @ w) - y)


@misconception("logistic_regression_grad", "flips the sign: X^T (y - sigmoid(X w)) / N, the log-likelihood's gradient")
def ascent_direction(X, y, w):
    return X.T @ (y - torch.sigmoid(X @ w)) / X.shape[0]


@misconception("logistic_regression_grad", "forgets the sigmoid: X^T (X w - y) / N (the squared-error gradient)")
def no_sigmoid(X, y, w):
    return X.T @ (X @ w - y) / X.shape[0]


@misconception("logistic_regression_grad", "divides by D (the number of features) instead of N")
def divides_by_features(X, y, w):
    return X.T @ (torch.sigmoid(X @ w) - y) / X.shape[1]


@misconception("logistic_regression_grad", "sigmoid as exp(z) / (1 + exp(z)): inf/inf = NaN for large scores")
def unstable_sigmoid(X, y, w):
    e = torch.exp(X @ w)
    return X.T @ (e / (1 + e) - y) / X.shape[0]


@misconception("logistic_regression_grad", "builds the residual in place in y (y.sub_(...)): the caller's labels change")
def residual_in_y(X, y, w):
    residual = y.sub_(torch.sigmoid(X @ w)).neg_()
    return X.T @ residual / X.shape[0]


@rewrite("logistic_regression_grad", "a loop over samples accumulating (1 / (1 + exp(-z_n)) - y_n) x_n")
def loop_over_samples(X, y, w):
    total = torch.zeros_like(w)
    for x_n, y_n in zip(X, y):
        z = torch.dot(x_n, w)
        total = total + (1.0 / (1.0 + torch.exp(-z)) - y_n) * x_n
    return total / len(X)


@rewrite("logistic_regression_grad", "einsum with sigmoid(z) = (1 + tanh(z / 2)) / 2, mean over samples")
def einsum_tanh(X, y, w):
    probs = 0.5 * (1.0 + torch.tanh(0.5 * torch.einsum("nd,d->n", X, w)))
    return torch.einsum("nd,n->nd", X, probs - y).mean(dim=0)
