"""Known mistakes in ``reward_accuracy`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("reward_accuracy", "counts a tie as wrong: mean of 1[chosen > rejected]")
def ties_as_wrong(chosen_scores, rejected_scores):
    return float((chosen_scores > rejected_scores).to(torch.float64).mean())


@misconception("reward_accuracy", "counts a tie as right: mean of 1[chosen >= rejected]")
def ties_as_right(chosen_scores, rejected_scores):
    return float((chosen_scores >= rejected_scores).to(torch.float64).mean())


@misconception("reward_accuracy", "compares the wrong way round: rejected > chosen")
def reversed_comparison(chosen_scores, rejected_scores):
    wins = (rejected_scores > chosen_scores).to(torch.float64)
    ties = (rejected_scores == chosen_scores).to(torch.float64)
    return float((wins + 0.5 * ties).mean())


@misconception("reward_accuracy", "reports the mean Bradley-Terry probability sigmoid(chosen - rejected), not accuracy")
def mean_probability(chosen_scores, rejected_scores):
    return float(torch.sigmoid(chosen_scores.double() - rejected_scores.double()).mean())


@misconception("reward_accuracy", "returns a 0-dim tensor instead of a Python float")
def returns_tensor(chosen_scores, rejected_scores):
    correct = (chosen_scores > rejected_scores).to(torch.float64)
    ties = (chosen_scores == rejected_scores).to(torch.float64)
    return (correct + 0.5 * ties).mean()


@misconception("reward_accuracy", "casts the scores to float32: float64 scores closer than float32 can resolve tie")
def float32_cast(chosen_scores, rejected_scores):
    c, r = chosen_scores.float(), rejected_scores.float()
    return float(((c > r).float() + 0.5 * (c == r).float()).mean())


@misconception("reward_accuracy", "forms the margin in place (margin = chosen_scores; margin -= rejected_scores)")
def margin_in_place(chosen_scores, rejected_scores):
    margin = chosen_scores
    margin -= rejected_scores
    return float(((margin > 0).double() + 0.5 * (margin == 0).double()).mean())


@rewrite("reward_accuracy", "maps the sign of the margin to 1, 0.5, 0: (sign + 1) / 2, averaged")
def sign_of_margin(chosen_scores, rejected_scores):
    return float(((torch.sign(chosen_scores - rejected_scores) + 1) / 2).mean())


@rewrite("reward_accuracy", "a Python loop over the pairs")
def python_loop(chosen_scores, rejected_scores):
    total = 0.0
    for c, r in zip(chosen_scores.tolist(), rejected_scores.tolist()):
        total += 1.0 if c > r else 0.5 if c == r else 0.0
    return total / len(chosen_scores)
