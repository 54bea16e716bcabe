"""Known mistakes in ``distinct_n`` and independent correct rewrites."""

from rlgrade.testing import misconception, rewrite


def _ngrams(tokens, n):
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


@misconception("distinct_n", "joins all texts into one token stream: n-grams span the boundary between texts")
def across_texts(texts, n):
    tokens = [t for text in texts for t in text.split()]
    grams = _ngrams(tokens, n)
    return len(set(grams)) / len(grams) if grams else 0.0


@misconception("distinct_n", "averages per-text distinct-n ratios instead of pooling the corpus")
def mean_of_ratios(texts, n):
    ratios = []
    for text in texts:
        grams = _ngrams(text.split(), n)
        if grams:
            ratios.append(len(set(grams)) / len(grams))
    return sum(ratios) / len(ratios) if ratios else 0.0


@misconception("distinct_n", "splits on single spaces (split(\" \")): empty strings and tabs end up inside tokens")
def split_on_space(texts, n):
    grams = [g for text in texts for g in _ngrams(text.split(" "), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


@misconception("distinct_n", "divides by the number of tokens instead of the number of n-grams")
def divides_by_tokens(texts, n):
    grams = [g for text in texts for g in _ngrams(text.split(), n)]
    n_tokens = sum(len(text.split()) for text in texts)
    return len(set(grams)) / n_tokens if grams else 0.0


@misconception("distinct_n", "lower-cases the tokens first (the tokens are case-sensitive)")
def lower_cased(texts, n):
    grams = [g for text in texts for g in _ngrams(text.lower().split(), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


@misconception("distinct_n", "divides without a guard: an empty corpus raises ZeroDivisionError instead of giving 0.0")
def no_guard(texts, n):
    grams = [g for text in texts for g in _ngrams(text.split(), n)]
    return len(set(grams)) / len(grams)


@rewrite("distinct_n", "counts n-grams with a dict and zip over shifted token lists")
def zip_and_dict(texts, n):
    counts = {}
    for text in texts:
        tokens = text.split()
        for gram in zip(*(tokens[i:] for i in range(n))):
            counts[gram] = counts.get(gram, 0) + 1
    total = sum(counts.values())
    return len(counts) / total if total else 0.0


@rewrite("distinct_n", "joins each n-gram into one string with a separator that cannot occur in a token")
def joined_strings(texts, n):
    seen, total = set(), 0
    for text in texts:
        tokens = text.split()
        for start in range(max(len(tokens) - n + 1, 0)):
            seen.add(" ".join(tokens[start:start + n]))
            total += 1
    return float(len(seen) / total) if total > 0 else 0.0
