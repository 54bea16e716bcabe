"""Hidden tests for ``elo_from_ranking``: replay ranking_to_pairs(ranking) as Elo games, in order, from `initial`."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_04.strategies import K_FACTORS, assert_float_list, ranked_items
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("elo_from_ranking")
TOL = {"rtol": 1e-9, "atol": 1e-6}


def ratings_list(got: object, n_items: int, what: str) -> list:
    if not isinstance(got, (list, tuple)) or len(got) != n_items:
        raise AssertionError(f"{what} should be a list of {n_items} ratings (one per item id), got {got!r}")
    return list(got)


@pytest.mark.points(3)
@given(case=ranked_items())
def test_matches_reference(student, case):
    """Ratings match for random (partial) rankings of up to 7 items, several k and initial ratings."""
    got = ratings_list(student.elo_from_ranking(**case), case["n_items"], "elo_from_ranking(...)")
    assert_close(got, ref.elo_from_ranking(**case), **TOL, what="the ratings", inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=ranked_items())
def test_returns_a_list_of_floats(student, case):
    """The result is a Python list of n_items Python floats (not a tensor, not a dict)."""
    got = student.elo_from_ranking(**case)
    assert_float_list(got, case["n_items"], "elo_from_ranking(...)")
    assert_close(got, ref.elo_from_ranking(**case), **TOL, what="the ratings", inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=ranked_items(min_ranked=2).filter(lambda c: len(c["ranking"]) < c["n_items"]))
def test_unranked_items_keep_the_initial_rating(student, case):
    """Items missing from the ranking play no game and keep exactly `initial`; the ranked ones are right too."""
    got = ratings_list(student.elo_from_ranking(**case), case["n_items"], "elo_from_ranking(...)")
    for item in set(range(case["n_items"])) - set(case["ranking"]):
        assert_close(got[item], float(case["initial"]), what=f"the rating of unranked item {item}", inputs=case)
    assert_close(got, ref.elo_from_ranking(**case), **TOL, what="the ratings", inputs=case)


@pytest.mark.points(1)
def test_games_are_played_in_order(student):
    """[0, 1, 2] plays (0,1), then (0,2), then (1,2), each on the ratings left by the games before it."""
    case = {"ranking": [0, 1, 2], "n_items": 3, "k": 32.0, "initial": 1000.0}
    got = ratings_list(student.elo_from_ranking(**case), 3, "elo_from_ranking([0, 1, 2], 3)")
    # sequential: 1016 / 984 after game 1; simultaneous updates from 1000 would give 1032 / 1000 / 968
    assert_close(got, [1031.263693206478, 1000.0339081301692, 968.7023986633528], **TOL, what="the ratings",
                 inputs=case)
    case = {"ranking": [3, 0, 2, 1], "n_items": 4, "k": 16.0, "initial": 1500.0}
    got = ratings_list(student.elo_from_ranking(**case), 4, "elo_from_ranking([3, 0, 2, 1], 4)")
    assert_close(got, ref.elo_from_ranking(**case), **TOL, what="the ratings", inputs=case)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(case=ranked_items(min_ranked=2))
def test_total_rating_is_conserved(student, case):
    """Every game is zero-sum: the ratings always sum to n_items * initial (and are right)."""
    got = ratings_list(student.elo_from_ranking(**case), case["n_items"], "elo_from_ranking(...)")
    assert_close(float(sum(got)), case["n_items"] * case["initial"], **TOL, what="the sum of the ratings",
                 inputs=case)
    assert_close(got, ref.elo_from_ranking(**case), **TOL, what="the ratings", inputs=case)


@pytest.mark.points(1)
@given(k=st.sampled_from(K_FACTORS))
def test_ratings_are_indexed_by_item_id(student, k):
    """Element i is item i's rating, whatever its position in the ranking: [1, 0] makes item 1 the winner."""
    for ranking, n_items, expected in (([1, 0], 2, [1000.0 - k / 2, 1000.0 + k / 2]),
                                       ([2, 0], 3, [1000.0 - k / 2, 1000.0, 1000.0 + k / 2])):
        case = {"ranking": ranking, "n_items": n_items, "k": k}
        got = ratings_list(student.elo_from_ranking(**case), n_items, f"elo_from_ranking({ranking!r}, {n_items})")
        assert_close(got, expected, **TOL, what="the ratings", inputs=case)


@pytest.mark.points(1)
@given(initial=st.sampled_from([1000.0, 1500.0, 0.0]), n_items=st.integers(1, 5))
def test_no_game_keeps_everyone_at_initial(student, initial, n_items):
    """An empty or one-item ranking plays no game: every item keeps `initial` (one game afterwards is right)."""
    for ranking in ([], [n_items - 1]):
        case = {"ranking": ranking, "n_items": n_items, "initial": initial}
        got = ratings_list(student.elo_from_ranking(**case), n_items, f"elo_from_ranking({ranking!r}, {n_items})")
        assert_close(got, [initial] * n_items, **TOL, what="the ratings", inputs=case)
    case = {"ranking": [0, n_items], "n_items": n_items + 1, "initial": initial}
    got = ratings_list(student.elo_from_ranking(**case), n_items + 1, "elo_from_ranking(...)")
    assert_close(got, ref.elo_from_ranking(**case), **TOL, what="the ratings", inputs=case)
