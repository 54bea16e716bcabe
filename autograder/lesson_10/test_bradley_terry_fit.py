"""Hidden tests for ``bradley_terry_fit``: the Bradley-Terry MLE (geometric mean 1), always float64."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_10.strategies import (
    bt_standard_errors,
    expected_wins,
    log_strength_vectors,
    win_matrices,
)
from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("bradley_terry_fit")
RTOL = 1e-6
"""Any algorithm that converges to the MLE passes: MM stopped at tol = 1e-10 (its default) is within ~1e-8 of it."""


def mle(wins: torch.Tensor) -> torch.Tensor:
    """The MLE to ~1e-13: the reference run far past its default stopping point."""
    return ref.bradley_terry_fit(wins, iters=100_000, tol=1e-14)


def check_strengths(got: object, m: int, inputs: dict) -> None:
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (m,) or got.dtype != torch.float64:
        kind = f"a {got.dtype} tensor of shape {tuple(got.shape)}" if isinstance(got, torch.Tensor) else repr(got)
        raise AssertionError(f"bradley_terry_fit should return a float64 tensor of shape ({m},), got {kind}"
                             f"\n  inputs: {inputs}")


@pytest.mark.points(3)
@settings(max_examples=20)
@given(wins=win_matrices())
def test_matches_mle(student, wins):
    """Strengths match the MLE on random strongly connected win matrices (2-5 models, int64/float32/float64 counts)."""
    got = student.bradley_terry_fit(wins)
    check_strengths(got, wins.shape[0], {"wins": wins})
    assert_close(got, mle(wins), rtol=RTOL, atol=0.0, what="the strengths", inputs={"wins": wins})


@pytest.mark.points(2)
@given(theta=st.integers(2, 6).flatmap(log_strength_vectors), games=st.sampled_from([1.0, 10.0, 100.0]))
def test_expected_counts_give_back_the_strengths(student, theta, games):
    """Counts equal to their expectations, games * sigmoid(theta_i - theta_j), give back exactly p = exp(theta)."""
    wins = expected_wins(theta, games)
    got = student.bradley_terry_fit(wins)
    inputs = {"wins": wins, "theta (true log-strengths, mean 0)": theta}
    check_strengths(got, theta.shape[0], inputs)
    assert_close(got, theta.exp(), rtol=RTOL, atol=0.0, what="the strengths", inputs=inputs)


SIMULATIONS = [(0, [0.8, 0.3, -0.2, -0.9]), (1, [1.5, -1.5, 0.0]), (2, [0.1, 0.0, -0.3, 0.6, -0.4])]
GAMES = 4000


@pytest.mark.points(2)
def test_recovers_strengths_from_simulated_battles(student):
    """On battles simulated under the model (4000 games per pair) the fit is within 5 standard errors of the truth."""
    for seed, log_strengths in SIMULATIONS:
        theta = torch.tensor(log_strengths, dtype=torch.float64)
        theta = theta - theta.mean()
        probs = torch.sigmoid(theta[:, None] - theta[None, :])
        upper = torch.triu(torch.binomial(torch.full_like(probs, float(GAMES)), probs,
                                          generator=torch.Generator().manual_seed(seed)), diagonal=1)
        wins = (upper + torch.triu(GAMES - upper, diagonal=1).T).to(torch.int64)  # wins[j, i] = games - wins[i, j]
        inputs = {"wins": wins, "theta (true log-strengths)": theta}
        got = student.bradley_terry_fit(wins)
        check_strengths(got, theta.shape[0], inputs)
        # the MLE is asymptotically normal with covariance pinv(Fisher information): |error| <= 5 SE per model
        bound = 5 * bt_standard_errors(theta, GAMES)
        error = (got.log() - theta).abs()
        assert bool((error <= bound).all()), (
            f"log-strengths {got.log().tolist()} are more than 5 standard errors {bound.tolist()} from the true "
            f"{theta.tolist()}\n  inputs: {inputs}")
        assert_close(got, mle(wins), rtol=RTOL, atol=0.0, what="the strengths (vs the MLE of these counts)",
                     inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=15)
@given(wins=win_matrices(dtype=torch.float32))
def test_float64_for_every_input_dtype(student, wins):
    """float32 and integer counts still give float64 strengths (the right ones)."""
    for counts in (wins, wins.to(torch.int64)):
        got = student.bradley_terry_fit(counts)
        check_strengths(got, counts.shape[0], {"wins": counts})
        assert_close(got, mle(counts), rtol=RTOL, atol=0.0, what="the strengths", inputs={"wins": counts})


@pytest.mark.points(1)
@settings(max_examples=15)
@given(wins=win_matrices())
def test_transposed_wins_invert_the_strengths(student, wins):
    """Swapping winners and losers (wins.T) turns every strength p into 1 / p (with mean log-strength 0)."""
    expected = mle(wins)
    got = student.bradley_terry_fit(wins)
    check_strengths(got, wins.shape[0], {"wins": wins})
    assert_close(got, expected, rtol=RTOL, atol=0.0, what="the strengths", inputs={"wins": wins})
    flipped = student.bradley_terry_fit(wins.T.contiguous())
    check_strengths(flipped, wins.shape[0], {"wins": wins.T})
    assert_close(flipped, 1 / expected, rtol=RTOL, atol=0.0, what="the strengths of the transposed matrix",
                 inputs={"wins": wins.T})


@pytest.mark.points(1)
@settings(max_examples=15)
@given(wins=win_matrices())
def test_does_not_modify_inputs(student, wins):
    """bradley_terry_fit leaves the win matrix unchanged (and returns the right strengths)."""
    result = student.call("bradley_terry_fit", wins)
    assert not result.mutated, f"bradley_terry_fit modified its input in place: {', '.join(map(str, result.mutated))}"
    check_strengths(result.value, wins.shape[0], {"wins": wins})
    assert_close(result.value, mle(wins), rtol=RTOL, atol=0.0, what="the strengths", inputs={"wins": wins})
