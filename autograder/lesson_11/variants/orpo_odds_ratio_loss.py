"""Known mistakes in ``orpo_odds_ratio_loss`` and independent correct rewrites."""

import math

import torch
import torch.nn.functional as F

from rlgrade.testing import misconception, rewrite


@misconception("orpo_odds_ratio_loss", "computes log(1 - exp(l)) literally: catastrophic cancellation as l -> 0")
def naive_log_one_minus_exp(pi_chosen_avg, pi_rejected_avg):
    def log_odds(l):
        return l - torch.log(1 - torch.exp(l))
    return -F.logsigmoid(log_odds(pi_chosen_avg) - log_odds(pi_rejected_avg))


@misconception("orpo_odds_ratio_loss", "uses log1p(-exp(l)) (as some libraries do): still inaccurate for l near 0")
def log1p_of_minus_exp(pi_chosen_avg, pi_rejected_avg):
    def log_odds(l):
        return l - torch.log1p(-torch.exp(l))
    return -F.logsigmoid(log_odds(pi_chosen_avg) - log_odds(pi_rejected_avg))


@misconception("orpo_odds_ratio_loss", "contrasts log-probabilities, not log-odds: forgets the -log(1 - P) term")
def probability_ratio(pi_chosen_avg, pi_rejected_avg):
    return -F.logsigmoid(pi_chosen_avg - pi_rejected_avg)


@misconception("orpo_odds_ratio_loss", "writes the odds' denominator as 1 + P: log odds = l - log(1 + exp(l))")
def one_plus_p(pi_chosen_avg, pi_rejected_avg):
    def log_odds(l):
        return l - torch.log1p(torch.exp(l))
    return -F.logsigmoid(log_odds(pi_chosen_avg) - log_odds(pi_rejected_avg))


@misconception("orpo_odds_ratio_loss", "returns the whole ORPO objective: adds the chosen NLL (-l_w) of the SFT term")
def adds_sft_term(pi_chosen_avg, pi_rejected_avg):
    def log_odds(l):
        return l - torch.log(-torch.expm1(l))
    return -pi_chosen_avg - F.logsigmoid(log_odds(pi_chosen_avg) - log_odds(pi_rejected_avg))


@misconception("orpo_odds_ratio_loss", "takes log(sigmoid(x)) of the log odds ratio: inf for ratios near -1e4")
def log_of_sigmoid(pi_chosen_avg, pi_rejected_avg):
    def log_odds(l):
        return l - torch.log(-torch.expm1(l))
    return -torch.log(torch.sigmoid(log_odds(pi_chosen_avg) - log_odds(pi_rejected_avg)))


@misconception("orpo_odds_ratio_loss", "swaps chosen and rejected in the odds ratio")
def swapped(pi_chosen_avg, pi_rejected_avg):
    def log_odds(l):
        return l - torch.log(-torch.expm1(l))
    return -F.logsigmoid(log_odds(pi_rejected_avg) - log_odds(pi_chosen_avg))


@rewrite("orpo_odds_ratio_loss", "Maechler's log1mexp: log(-expm1(l)) above -log 2, log1p(-exp(l)) below; softplus")
def log1mexp_branches(pi_chosen_avg, pi_rejected_avg):
    def log1mexp(l):
        near_zero = l > -math.log(2.0)
        # evaluate each branch only where it is accurate (and finite), then pick
        safe_near = torch.where(near_zero, l, torch.full_like(l, -1.0))
        safe_far = torch.where(near_zero, torch.full_like(l, -1.0), l)
        return torch.where(near_zero, torch.log(-torch.expm1(safe_near)), torch.log1p(-torch.exp(safe_far)))
    ratio = (pi_chosen_avg - log1mexp(pi_chosen_avg)) - (pi_rejected_avg - log1mexp(pi_rejected_avg))
    return F.softplus(-ratio)


@rewrite("orpo_odds_ratio_loss", "log odds = -log(expm1(-l)) (odds = 1 / (1/P - 1)), with l clamped at -30 below")
def inverse_odds(pi_chosen_avg, pi_rejected_avg):
    def log_odds(l):
        # for l < -30, 1 - P = 1 to double precision and log odds = l; the clamp keeps expm1(-l) finite
        return torch.where(l < -30.0, l, -torch.log(torch.expm1(-l.clamp(min=-30.0))))
    return -F.logsigmoid(log_odds(pi_chosen_avg) - log_odds(pi_rejected_avg))
