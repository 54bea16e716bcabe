"""Hidden tests for ``elo_update``: one Elo game, E_a = 1/(1 + 10^((r_b - r_a)/400)), returned as two floats."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_04.strategies import K_FACTORS, SCORES, elo_games, ratings
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("elo_update")
TOL = {"rtol": 1e-9, "atol": 1e-6}
"""Ratings are ~1000: a relative error of 1e-9 is far below any mistake, far above rounding."""


def ratings_pair(got: object, what: str) -> tuple:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise AssertionError(f"{what} should be a tuple (new_r_a, new_r_b), got {type(got).__name__}: {got!r}")
    return tuple(got)


@pytest.mark.points(3)
@given(game=elo_games())
def test_matches_reference(student, game):
    """New ratings match for random ratings in [0, 3000], every result (1, 0.5, 0) and several k."""
    assert_close(student.elo_update(**game), ref.elo_update(**game), **TOL, what="(new_r_a, new_r_b)", inputs=game)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(game=elo_games(), integers=st.booleans())
def test_returns_a_tuple_of_two_floats(student, game, integers):
    """The result is a tuple of two Python floats (also for integer ratings), not tensors or a list."""
    if integers:
        game = {**game, "r_a": int(game["r_a"]), "r_b": int(game["r_b"])}
    got = student.elo_update(**game)
    assert type(got) is tuple and len(got) == 2, (
        f"elo_update should return a tuple (new_r_a, new_r_b), got {type(got).__name__}: {got!r}")
    assert all(type(x) is float for x in got), (
        f"both new ratings must be Python floats, got {tuple(type(x).__name__ for x in got)}: {got!r}")
    assert_close(got, ref.elo_update(**game), **TOL, what="(new_r_a, new_r_b)", inputs=game)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(game=elo_games())
def test_total_rating_is_conserved(student, game):
    """r_a' + r_b' = r_a + r_b (E_a + E_b = 1), and the new ratings are right."""
    new_a, new_b = ratings_pair(student.elo_update(**game), "elo_update(...)")
    assert_close(float(new_a) + float(new_b), float(game["r_a"] + game["r_b"]), **TOL, what="r_a' + r_b'", inputs=game)
    assert_close((new_a, new_b), ref.elo_update(**game), **TOL, what="(new_r_a, new_r_b)", inputs=game)


@pytest.mark.points(1)
@given(rating=ratings(), k=st.sampled_from(K_FACTORS))
def test_equal_ratings(student, rating, k):
    """Between equal ratings (E = 1/2), a win moves each by k/2, a draw changes nothing, a loss moves each by k/2 back."""
    for score, (da, db) in ((1.0, (k / 2, -k / 2)), (0.5, (0.0, 0.0)), (0.0, (-k / 2, k / 2))):
        inputs = {"r_a": rating, "r_b": rating, "score_a": score, "k": k}
        assert_close(student.elo_update(rating, rating, score, k), (rating + da, rating + db), **TOL,
                     what="(new_r_a, new_r_b)", inputs=inputs)


@pytest.mark.points(1)
@given(base=st.sampled_from([600.0, 1000.0, 1800.0]), score=st.sampled_from(SCORES))
def test_a_400_point_gap_means_10_to_1(student, base, score):
    """With r_a = r_b + 400, E_a = 10/11: A moves by 32 (score_a - 10/11) and B by the opposite (k = 32)."""
    delta = 32.0 * (score - 10.0 / 11.0)
    inputs = {"r_a": base + 400.0, "r_b": base, "score_a": score, "k": 32.0}
    assert_close(student.elo_update(**inputs), (base + 400.0 + delta, base - delta), **TOL,
                 what="(new_r_a, new_r_b) for a 400-point gap", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(r_a=ratings(), r_b=ratings(), score=st.sampled_from(SCORES))
def test_default_k_is_32(student, r_a, r_b, score):
    """Without k the K-factor is 32."""
    inputs = {"r_a": r_a, "r_b": r_b, "score_a": score}
    assert_close(student.elo_update(r_a, r_b, score), ref.elo_update(r_a, r_b, score, 32.0), **TOL,
                 what="(new_r_a, new_r_b) with the default k", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(game=elo_games())
def test_swapping_the_players_swaps_the_result(student, game):
    """elo_update(r_b, r_a, 1 - s) gives the same two ratings in the other order (and they are right)."""
    forward = ratings_pair(student.elo_update(**game), "elo_update(r_a, r_b, s)")
    swapped = {"r_a": game["r_b"], "r_b": game["r_a"], "score_a": 1.0 - game["score_a"], "k": game["k"]}
    backward = ratings_pair(student.elo_update(**swapped), "elo_update(r_b, r_a, 1 - s)")
    assert_close(forward, ref.elo_update(**game), **TOL, what="(new_r_a, new_r_b)", inputs=game)
    assert_close((backward[1], backward[0]), forward, **TOL,
                 what="elo_update(r_b, r_a, 1 - s) read in the other order", inputs=swapped)
