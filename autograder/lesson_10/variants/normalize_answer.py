"""Known mistakes in ``normalize_answer`` and independent correct rewrites."""

import re
import string
import unicodedata

from rlgrade.testing import misconception, rewrite

ARTICLES = re.compile(r"\b(a|an|the)\b")


@misconception("normalize_answer", "removes the articles before the punctuation (\"th.e\" keeps its article)")
def articles_first(s):
    s = ARTICLES.sub(" ", s.lower())
    s = "".join(ch for ch in s if ch not in string.punctuation)
    return " ".join(s.split())


@misconception("normalize_answer", "deletes the articles (replaces them by \"\") instead of by a space")
def articles_deleted(s):
    s = "".join(ch for ch in s.lower() if ch not in string.punctuation)
    return " ".join(ARTICLES.sub("", s).split())


@misconception("normalize_answer", "replaces punctuation by a space instead of deleting it (\"don't\" -> \"don t\")")
def punctuation_to_space(s):
    s = "".join(" " if ch in string.punctuation else ch for ch in s.lower())
    return " ".join(ARTICLES.sub(" ", s).split())


@misconception("normalize_answer", "drops the \\b word boundaries: removes a/an/the inside words too")
def no_word_boundaries(s):
    s = "".join(ch for ch in s.lower() if ch not in string.punctuation)
    return " ".join(re.sub("(a|an|the)", " ", s).split())


@misconception("normalize_answer", "lower-cases last, so capitalised articles (\"The\") survive")
def lower_last(s):
    s = "".join(ch for ch in s if ch not in string.punctuation)
    s = ARTICLES.sub(" ", s)
    return " ".join(s.split()).lower()


@misconception("normalize_answer", "also deletes non-ASCII punctuation (any Unicode category P*)")
def unicode_punctuation(s):
    s = "".join(ch for ch in s.lower() if ch not in string.punctuation and not unicodedata.category(ch).startswith("P"))
    return " ".join(ARTICLES.sub(" ", s).split())


@misconception("normalize_answer", "collapses only ASCII spaces (split(\" \")): tabs, newlines, no-break spaces stay")
def ascii_spaces_only(s):
    s = "".join(ch for ch in s.lower() if ch not in string.punctuation)
    s = ARTICLES.sub(" ", s)
    return " ".join(part for part in s.split(" ") if part)


@misconception("normalize_answer", "case-folds (str.casefold(): \"ß\" -> \"ss\") instead of lower-casing")
def casefold(s):
    s = "".join(ch for ch in s.casefold() if ch not in string.punctuation)
    return " ".join(ARTICLES.sub(" ", s).split())


@rewrite("normalize_answer", "str.translate to delete punctuation, a compiled regex, and re.split on white space")
def translate_and_split(s):
    table = str.maketrans("", "", string.punctuation)
    text = s.lower().translate(table)
    text = re.compile(r"\b(?:a|an|the)\b").sub(" ", text)
    return " ".join(w for w in re.split(r"\s+", text) if w)


@rewrite("normalize_answer", "SQuAD's own helpers: white_space_fix(remove_articles(remove_punc(lower(s))))")
def squad_helpers(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))
