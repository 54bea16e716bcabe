"""Known mistakes in ``exact_match`` and independent correct rewrites."""

import re
import string

from rlgrade.testing import misconception, rewrite


def _normalize(s):
    s = "".join(ch for ch in s.lower() if ch not in string.punctuation)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())


@misconception("exact_match", "compares the raw strings (no normalisation)")
def raw_strings(pred, gold):
    return float(pred == gold)


@misconception("exact_match", "only lower-cases and strips, without the SQuAD normalisation")
def lower_strip_only(pred, gold):
    return float(pred.lower().strip() == gold.lower().strip())


@misconception("exact_match", "counts a match when the normalised gold answer is contained in the prediction")
def containment(pred, gold):
    return float(_normalize(gold) in _normalize(pred))


@misconception("exact_match", "returns a bool instead of a float")
def returns_bool(pred, gold):
    return _normalize(pred) == _normalize(gold)


@misconception("exact_match", "compares the sets of normalised tokens (word order and repeats ignored)")
def token_sets(pred, gold):
    return float(set(_normalize(pred).split()) == set(_normalize(gold).split()))


@rewrite("exact_match", "compares the normalised token lists, 1.0 / 0.0 by a conditional expression")
def token_lists(pred, gold):
    def tokens(s):
        s = s.lower().translate(str.maketrans("", "", string.punctuation))
        return re.sub(r"\b(?:a|an|the)\b", " ", s).split()

    return 1.0 if tokens(pred) == tokens(gold) else 0.0


@rewrite("exact_match", "uses normalize_answer as the notebook does, via a one-line helper and int -> float")
def via_helper(pred, gold):
    return float(int(_normalize(pred) == _normalize(gold)))
