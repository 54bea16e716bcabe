"""Known mistakes in ``token_f1`` and independent correct rewrites."""

import re
import string
from collections import Counter

from rlgrade.testing import misconception, rewrite


def _tokens(s):
    s = "".join(ch for ch in s.lower() if ch not in string.punctuation)
    return re.sub(r"\b(a|an|the)\b", " ", s).split()


def _f1(common, n_pred, n_gold):
    if common == 0:
        return 0.0
    precision, recall = common / n_pred, common / n_gold
    return 2 * precision * recall / (precision + recall)


@misconception("token_f1", "counts the overlap with sets: a repeated token is shared once, or counted once")
def set_overlap(pred, gold):
    p, g = set(_tokens(pred)), set(_tokens(gold))
    return _f1(len(p & g), len(p), len(g))


@misconception("token_f1", "splits the raw strings, without the SQuAD normalisation")
def no_normalisation(pred, gold):
    p, g = pred.split(), gold.split()
    return _f1(sum((Counter(p) & Counter(g)).values()), len(p), len(g))


@misconception("token_f1", "gives 1.0 when both answers are empty (SQuAD v2.0's rule, not v1.1's)")
def empty_pair_is_one(pred, gold):
    p, g = _tokens(pred), _tokens(gold)
    if not p and not g:
        return 1.0
    return _f1(sum((Counter(p) & Counter(g)).values()), len(p), len(g))


@misconception("token_f1", "averages precision and recall (arithmetic mean) instead of the harmonic mean")
def arithmetic_mean(pred, gold):
    p, g = _tokens(pred), _tokens(gold)
    common = sum((Counter(p) & Counter(g)).values())
    return 0.0 if common == 0 else (common / len(p) + common / len(g)) / 2


@misconception("token_f1", "counts every predicted token that occurs in gold, however often (no multiset min)")
def membership_count(pred, gold):
    p, g = _tokens(pred), _tokens(gold)
    common = sum(1 for t in p if t in g)
    return 0.0 if common == 0 else min(1.0, _f1(common, len(p), len(g)))


@rewrite("token_f1", "F1 as 2 * common / (|pred| + |gold|), multiset overlap by a loop over the gold tokens")
def dice_form(pred, gold):
    p, g = _tokens(pred), _tokens(gold)
    remaining = Counter(p)
    common = 0
    for t in g:
        if remaining[t] > 0:
            remaining[t] -= 1
            common += 1
    return 2 * common / (len(p) + len(g)) if common else 0.0


@rewrite("token_f1", "multiset overlap as the sum over shared tokens of min(count in pred, count in gold)")
def min_counts(pred, gold):
    cp, cg = Counter(_tokens(pred)), Counter(_tokens(gold))
    common = sum(min(cp[t], cg[t]) for t in cp.keys() & cg.keys())
    if common == 0:
        return 0.0
    precision = common / sum(cp.values())
    recall = common / sum(cg.values())
    return 2 * precision * recall / (precision + recall)
