"""Known mistakes in ``elo_from_ranking`` and independent correct rewrites."""

from rlgrade.testing import misconception, rewrite


def _update(r_w, r_l, k):
    e_w = 1.0 / (1.0 + 10.0 ** ((r_l - r_w) / 400.0))
    return r_w + k * (1.0 - e_w), r_l - k * (1.0 - e_w)


def _pairs(ranking):
    return [(ranking[i], ranking[j]) for i in range(len(ranking)) for j in range(i + 1, len(ranking))]


@misconception("elo_from_ranking", "simultaneous updates: every game's expectation from the initial ratings")
def updates_all_pairs_at_once(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [float(initial)] * n_items
    for w, l in _pairs(ranking):
        new_w, new_l = _update(float(initial), float(initial), k)
        ratings[w] += new_w - initial
        ratings[l] += new_l - initial
    return ratings


@misconception("elo_from_ranking", "indexes the ratings by position in the ranking, not by item id")
def indexed_by_position(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [float(initial)] * n_items
    for i in range(len(ranking)):
        for j in range(i + 1, len(ranking)):
            ratings[i], ratings[j] = _update(ratings[i], ratings[j], k)
    return ratings


@misconception("elo_from_ranking", "plays the games from the bottom of the ranking up (pairs in reverse order)")
def reversed_games(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [float(initial)] * n_items
    for w, l in reversed(_pairs(ranking)):
        ratings[w], ratings[l] = _update(ratings[w], ratings[l], k)
    return ratings


@misconception("elo_from_ranking", "stores the two updated ratings the wrong way round")
def swapped_assignment(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [float(initial)] * n_items
    for w, l in _pairs(ranking):
        ratings[l], ratings[w] = _update(ratings[w], ratings[l], k)
    return ratings


@misconception("elo_from_ranking", "the winner scores 0 (arguments of the update swapped)")
def winner_loses(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [float(initial)] * n_items
    for w, l in _pairs(ranking):
        ratings[l], ratings[w] = _update(ratings[l], ratings[w], k)
    return ratings


@misconception("elo_from_ranking", "unranked items get 0.0 instead of the initial rating")
def unranked_get_zero(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [0.0] * n_items
    for item in ranking:
        ratings[item] = float(initial)
    for w, l in _pairs(ranking):
        ratings[w], ratings[l] = _update(ratings[w], ratings[l], k)
    return ratings


@misconception("elo_from_ranking", "updates only the winner (the loser keeps its rating)")
def winner_only(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [float(initial)] * n_items
    for w, l in _pairs(ranking):
        ratings[w], _ = _update(ratings[w], ratings[l], k)
    return ratings


@misconception("elo_from_ranking", "returns a dict item -> rating instead of a list")
def returns_dict(ranking, n_items, k=32.0, initial=1000.0):
    ratings = {i: float(initial) for i in range(n_items)}
    for w, l in _pairs(ranking):
        ratings[w], ratings[l] = _update(ratings[w], ratings[l], k)
    return {str(i): r for i, r in ratings.items()}


@rewrite("elo_from_ranking", "a dict of ratings and a generator of games, converted to a list at the end")
def dict_then_list(ranking, n_items, k=32.0, initial=1000.0):
    table = {}
    games = ((w, ranking[j]) for i, w in enumerate(ranking) for j in range(i + 1, len(ranking)))
    for winner, loser in games:
        rw, rl = table.get(winner, initial), table.get(loser, initial)
        gain = k / (1.0 + 10.0 ** ((rw - rl) / 400.0))            # k (1 - E_w)
        table[winner], table[loser] = rw + gain, rl - gain
    return [float(table.get(i, initial)) for i in range(n_items)]


@rewrite("elo_from_ranking", "while loop popping the best remaining item, which then plays everyone below it")
def pop_best(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [initial * 1.0 for _ in range(n_items)]
    remaining = list(ranking)
    while remaining:
        best = remaining.pop(0)
        for other in remaining:
            e = 1.0 / (1.0 + 10.0 ** ((ratings[other] - ratings[best]) / 400.0))
            ratings[best] += k * (1.0 - e)
            ratings[other] += k * (0.0 - (1.0 - e))
    return ratings


@rewrite("elo_from_ranking", "games in loser-major order: same result, since games on disjoint pairs commute and "
                             "games sharing an item keep their relative order")
def loser_major_order(ranking, n_items, k=32.0, initial=1000.0):
    ratings = [float(initial)] * n_items
    for j in range(len(ranking)):
        for i in range(j):
            w, l = ranking[i], ranking[j]
            ratings[w], ratings[l] = _update(ratings[w], ratings[l], k)
    return ratings
