"""Known mistakes in ``layer_norm`` and independent correct rewrites.

Variants that call the forbidden built-ins are in ``_forbidden.py`` (the framework's detector rejects them).
"""

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


@misconception("layer_norm", "uses the Bessel-corrected variance (torch.var's default, divides by D - 1)")
def bessel_variance(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True)
    return weight * (x - mean) / torch.sqrt(var + eps) + bias


@misconception("layer_norm", "adds eps to the standard deviation, (x - mean) / (std + eps), not inside the root")
def eps_outside_root(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    std = x.std(dim=-1, unbiased=False, keepdim=True)
    return weight * (x - mean) / (std + eps) + bias


@misconception("layer_norm", "forgets eps: a constant vector gives 0/0 = NaN")
def no_eps(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return weight * (x - mean) / torch.sqrt(var) + bias


@misconception("layer_norm", "normalises over the first dimension (like batch norm) instead of the last")
def normalises_first_dim(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=0, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=0, keepdim=True)
    return weight * (x - mean) / torch.sqrt(var + eps) + bias


@misconception("layer_norm", "swaps weight and bias: x_hat * bias + weight")
def swapped_affine(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return bias * (x - mean) / torch.sqrt(var + eps) + weight


@misconception("layer_norm", "centres x in place (x -= mean): the caller's tensor changes")
def centres_in_place(x, weight, bias, eps=1e-5):
    x -= x.mean(dim=-1, keepdim=True).detach()
    var = (x ** 2).mean(dim=-1, keepdim=True)
    return weight * x / torch.sqrt(var + eps) + bias


@misconception("layer_norm", "divides by the variance instead of the standard deviation: (x - mean) / (var + eps)")
def divides_by_variance(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return weight * (x - mean) / (var + eps) + bias


@rewrite("layer_norm", "torch.var_mean(correction=0) and torch.rsqrt, then torch.addcmul for the affine part")
def var_mean_rsqrt(x, weight, bias, eps=1e-5):
    var, mean = torch.var_mean(x, dim=-1, correction=0, keepdim=True)
    x_hat = (x - mean) * torch.rsqrt(var + eps)
    return torch.addcmul(bias, weight, x_hat)


@rewrite("layer_norm", "one-pass moments: var = E[x^2] - E[x]^2, sums divided by D explicitly")
def one_pass_moments(x, weight, bias, eps=1e-5):
    d = x.shape[-1]
    mean = x.sum(dim=-1, keepdim=True) / d
    var = (x * x).sum(dim=-1, keepdim=True) / d - mean * mean
    return (x - mean) / (var + eps) ** 0.5 * weight + bias


@misconception("layer_norm", "uses the forbidden built-in F.layer_norm")
def builtin_f_layer_norm(x, weight, bias, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


@misconception("layer_norm", "uses the forbidden built-in torch.layer_norm")
def builtin_torch_layer_norm(x, weight, bias, eps=1e-5):
    return torch.layer_norm(x, (x.shape[-1],), weight, bias, eps)


@misconception("layer_norm", "uses the forbidden built-in torch.nn.LayerNorm (module with copied weight and bias)")
def builtin_layer_norm_module(x, weight, bias, eps=1e-5):
    module = torch.nn.LayerNorm(x.shape[-1], eps=eps, dtype=x.dtype)
    with torch.no_grad():
        module.weight.copy_(weight)
        module.bias.copy_(bias)
    return module(x)
