"""Hidden tests for ``ranking_to_pairs``: every (winner, loser) pair of positions i < j, winner-major order."""

import itertools

import pytest
from hypothesis import given, settings

from autograder.lesson_04.strategies import as_pairs, rankings
from rlgrade.testing import reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("ranking_to_pairs")


def assert_pairs_equal(got: list, expected: list, ranking: list, what: str = "the pairs") -> None:
    if got != expected:
        first = next((i for i, (g, e) in enumerate(zip(got, expected)) if g != e), min(len(got), len(expected)))
        raise AssertionError(
            f"{what} of ranking {ranking!r} differ at position {first}: expected {expected[first:first + 1]}, "
            f"got {got[first:first + 1]} ({len(got)} pairs returned, {len(expected)} expected)\n"
            f"  expected: {expected!r}\n  got:      {got!r}")


@pytest.mark.points(3)
@given(ranking=rankings())
def test_matches_reference(student, ranking):
    """The pairs and their order match on random rankings of 0 to 7 items (pairs compared by value)."""
    got = as_pairs(student.ranking_to_pairs(ranking), f"ranking_to_pairs({ranking!r})")
    assert_pairs_equal(got, ref.ranking_to_pairs(ranking), ranking)


@pytest.mark.points(1)
def test_worked_example(student):
    """[4, 2, 1, 3] gives (4,2), (4,1), (4,3), (2,1), (2,3), (1,3)."""
    ranking = [4, 2, 1, 3]
    got = as_pairs(student.ranking_to_pairs(ranking), "ranking_to_pairs([4, 2, 1, 3])")
    assert_pairs_equal(got, [(4, 2), (4, 1), (4, 3), (2, 1), (2, 3), (1, 3)], ranking)


@pytest.mark.points(2)
@settings(max_examples=15)
@given(ranking=rankings(max_items=9))
def test_every_pair_once_with_the_higher_ranked_winner(student, ranking):
    """K items give K(K-1)/2 distinct pairs, one per two items, the higher-ranked item first."""
    got = as_pairs(student.ranking_to_pairs(ranking), f"ranking_to_pairs({ranking!r})")
    k = len(ranking)
    assert len(got) == k * (k - 1) // 2, (
        f"a ranking of K = {k} items gives K(K-1)/2 = {k * (k - 1) // 2} pairs, got {len(got)}: {got!r} "
        f"(ranking {ranking!r})")
    position = {item: i for i, item in enumerate(ranking)}
    for winner, loser in got:
        assert winner in position and loser in position, f"pair {(winner, loser)} has an item not in {ranking!r}"
        assert position[winner] < position[loser], (
            f"pair {(winner, loser)}: the winner must be ranked above the loser in {ranking!r}")
    expected = {frozenset(p) for p in itertools.combinations(ranking, 2)}
    assert {frozenset(p) for p in got} == expected, f"some pairs of {ranking!r} are missing or repeated: {got!r}"


@pytest.mark.points(1)
@settings(max_examples=10)
@given(ranking=rankings(max_items=5).filter(lambda r: len(r) >= 2))
def test_returns_a_list_of_int_tuples(student, ranking):
    """The result is a Python list of (winner, loser) tuples of ints — not lists, not a generator."""
    got = student.ranking_to_pairs(ranking)
    assert type(got) is list, f"ranking_to_pairs should return a list, got {type(got).__name__}: {got!r}"
    for pair in got:
        assert type(pair) is tuple and len(pair) == 2, (
            f"each pair must be a tuple (winner, loser), got {type(pair).__name__} {pair!r} (a list of two-element "
            f"lists is not accepted)")
        assert all(type(x) is int for x in pair), f"item ids must be Python ints, got {pair!r}"
    assert_pairs_equal(got, ref.ranking_to_pairs(ranking), ranking)


@pytest.mark.points(1)
def test_short_rankings(student):
    """No item or one item gives no pair ([]); two items give one pair."""
    for ranking, expected in (([], []), ([7], []), ([3, 11], [(3, 11)]), ([11, 3], [(11, 3)])):
        got = as_pairs(student.ranking_to_pairs(ranking), f"ranking_to_pairs({ranking!r})")
        assert_pairs_equal(got, expected, ranking)
