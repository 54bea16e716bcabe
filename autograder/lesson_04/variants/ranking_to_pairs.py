"""Known mistakes in ``ranking_to_pairs`` and independent correct rewrites."""

import itertools

from rlgrade.testing import misconception, rewrite


@misconception("ranking_to_pairs", "writes the pairs as (loser, winner)")
def loser_first(ranking):
    return [(ranking[j], ranking[i]) for i in range(len(ranking)) for j in range(i + 1, len(ranking))]


@misconception("ranking_to_pairs", "only adjacent pairs (K - 1 of them), not every pair")
def adjacent_only(ranking):
    return [(ranking[i], ranking[i + 1]) for i in range(len(ranking) - 1)]


@misconception("ranking_to_pairs", "orders the pairs by the loser's position first")
def loser_major_order(ranking):
    return [(ranking[i], ranking[j]) for j in range(len(ranking)) for i in range(j)]


@misconception("ranking_to_pairs", "every ordered pair of different items, both directions")
def both_directions(ranking):
    return [(a, b) for a in ranking for b in ranking if a != b]


@misconception("ranking_to_pairs", "returns positions in the ranking instead of item ids")
def positions_not_ids(ranking):
    return [(i, j) for i in range(len(ranking)) for j in range(i + 1, len(ranking))]


@misconception("ranking_to_pairs", "returns a list of two-element lists instead of tuples")
def lists_not_tuples(ranking):
    return [[ranking[i], ranking[j]] for i in range(len(ranking)) for j in range(i + 1, len(ranking))]


@misconception("ranking_to_pairs", "sorts the ids first (reads the ranking as a set, smallest id best)")
def sorted_ids(ranking):
    ordered = sorted(ranking)
    return [(ordered[i], ordered[j]) for i in range(len(ordered)) for j in range(i + 1, len(ordered))]


@rewrite("ranking_to_pairs", "itertools.combinations (lexicographic in positions)")
def combinations(ranking):
    return list(itertools.combinations(ranking, 2))


@rewrite("ranking_to_pairs", "recursion: the best item beats all the rest, then the rest's own pairs")
def recursive(ranking):
    if len(ranking) < 2:
        return []
    best, rest = ranking[0], list(ranking[1:])
    return [(best, other) for other in rest] + recursive(rest)
