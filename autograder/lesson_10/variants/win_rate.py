"""Known mistakes in ``win_rate`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("win_rate", "counts a tie as a loss: fraction of outcomes equal to 1")
def ties_as_losses(outcomes):
    return float((outcomes == 1).to(torch.float64).mean())


@misconception("win_rate", "drops ties from the denominator: wins / (wins + losses)")
def ties_excluded(outcomes):
    wins = float((outcomes == 1).sum())
    losses = float((outcomes == 0).sum())
    return wins / (wins + losses) if wins + losses else 0.5


@misconception("win_rate", "counts a tie as a win: fraction of outcomes > 0")
def ties_as_wins(outcomes):
    return float((outcomes > 0).to(torch.float64).mean())


@misconception("win_rate", "returns the 0-dim tensor outcomes.mean() instead of a Python float")
def returns_tensor(outcomes):
    return outcomes.to(torch.float64).mean()


@misconception("win_rate", "calls outcomes.mean() directly: fails on integer outcomes")
def no_integer_cast(outcomes):
    return float(outcomes.mean())


@misconception("win_rate", "returns the number of wins (sum of outcomes), not the rate")
def win_count(outcomes):
    return float(outcomes.sum())


@rewrite("win_rate", "counts wins and ties in Python: (wins + ties / 2) / N")
def count_wins_and_ties(outcomes):
    values = outcomes.tolist()
    wins = sum(1 for v in values if v == 1)
    ties = sum(1 for v in values if v == 0.5)
    return (wins + ties / 2) / len(values)


@rewrite("win_rate", "float32 sum divided by numel")
def float32_sum(outcomes):
    return outcomes.to(torch.float32).sum().item() / outcomes.numel()
