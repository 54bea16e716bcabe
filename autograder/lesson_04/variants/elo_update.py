"""Known mistakes in ``elo_update`` and independent correct rewrites."""

import math

from rlgrade.testing import misconception, rewrite


def _expected(r_a, r_b):
    return 1.0 / (1.0 + 10.0 ** ((r_b - r_a) / 400.0))


@misconception("elo_update", "exponent the wrong way round: 10 ** ((r_a - r_b) / 400)")
def flipped_exponent(r_a, r_b, score_a, k=32.0):
    e_a = 1.0 / (1.0 + 10.0 ** ((r_a - r_b) / 400.0))
    return float(r_a + k * (score_a - e_a)), float(r_b + k * ((1 - score_a) - (1 - e_a)))


@misconception("elo_update", "natural base: 1 / (1 + exp((r_b - r_a) / 400))")
def natural_base(r_a, r_b, score_a, k=32.0):
    e_a = 1.0 / (1.0 + math.exp((r_b - r_a) / 400.0))
    return float(r_a + k * (score_a - e_a)), float(r_b + k * ((1 - score_a) - (1 - e_a)))


@misconception("elo_update", "B's update uses score_a instead of 1 - score_a")
def b_uses_score_a(r_a, r_b, score_a, k=32.0):
    e_a = _expected(r_a, r_b)
    return float(r_a + k * (score_a - e_a)), float(r_b + k * (score_a - (1 - e_a)))


@misconception("elo_update", "updates A first, then computes B's expectation from A's new rating")
def sequential_within_game(r_a, r_b, score_a, k=32.0):
    new_a = r_a + k * (score_a - _expected(r_a, r_b))
    e_b = _expected(r_b, new_a)
    return float(new_a), float(r_b + k * ((1 - score_a) - e_b))


@misconception("elo_update", "returns a list [new_r_a, new_r_b] instead of a tuple")
def returns_list(r_a, r_b, score_a, k=32.0):
    e_a = _expected(r_a, r_b)
    return [float(r_a + k * (score_a - e_a)), float(r_b + k * ((1 - score_a) - (1 - e_a)))]


@misconception("elo_update", "default K-factor of 16 instead of 32")
def default_k_16(r_a, r_b, score_a, k=16.0):
    e_a = _expected(r_a, r_b)
    return float(r_a + k * (score_a - e_a)), float(r_b + k * ((1 - score_a) - (1 - e_a)))


@misconception("elo_update", "computes with torch and returns 0-dim tensors instead of Python floats")
def returns_tensors(r_a, r_b, score_a, k=32.0):
    import torch
    r_a, r_b = torch.tensor(float(r_a), dtype=torch.float64), torch.tensor(float(r_b), dtype=torch.float64)
    e_a = 1.0 / (1.0 + torch.pow(10.0, (r_b - r_a) / 400.0))
    return r_a + k * (score_a - e_a), r_b + k * ((1 - score_a) - (1 - e_a))


@rewrite("elo_update", "one zero-sum delta: A gains k (s - E_a), B loses the same amount")
def zero_sum_delta(r_a, r_b, score_a, k=32.0):
    delta = k * (score_a - 1.0 / (1.0 + math.pow(10.0, (r_b - r_a) / 400.0)))
    return (r_a + delta) * 1.0, (r_b - delta) * 1.0


@rewrite("elo_update", "logistic form E_a = (1 + tanh(ln10 (r_a - r_b) / 800)) / 2")
def tanh_expectation(r_a, r_b, score_a, k=32.0):
    e_a = 0.5 * (1.0 + math.tanh(math.log(10.0) * (r_a - r_b) / 800.0))
    e_b = 0.5 * (1.0 + math.tanh(math.log(10.0) * (r_b - r_a) / 800.0))
    return float(r_a + k * (score_a - e_a)), float(r_b + k * ((1.0 - score_a) - e_b))
