"""Hidden tests for ``cpi_mixture``: (1 - alpha) pi_old + alpha pi_new."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.lesson_07.strategies import MAX_ACTIONS, MAX_STATES, stochastic_rows
from rlgrade.testing import assert_close, reference_for
from rlgrade.testing.strategies import float_dtypes, floats

ref = reference_for(__file__)
pytestmark = pytest.mark.question("cpi_mixture")

ALPHAS = st.one_of(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]), floats(0.0, 1.0))


@st.composite
def policy_pair(draw):
    dtype = draw(float_dtypes())
    n_states, n_actions = draw(st.integers(1, MAX_STATES)), draw(st.integers(1, MAX_ACTIONS))
    return {"pi_old": draw(stochastic_rows(n_states, n_actions, dtype)),
            "pi_new": draw(stochastic_rows(n_states, n_actions, dtype))}


@pytest.mark.points(3)
@given(pair=policy_pair(), alpha=ALPHAS)
def test_matches_reference(student, pair, alpha):
    """The mixture matches on random policy pairs and alphas in [0, 1], float32 and float64."""
    kwargs = {**pair, "alpha": alpha}
    assert_close(student.cpi_mixture(**kwargs), ref.cpi_mixture(**kwargs), inputs=kwargs)


@pytest.mark.points(2)
@settings(max_examples=15)
@given(pair=policy_pair(), alpha=ALPHAS)
def test_is_a_policy(student, pair, alpha):
    """The mixture is a policy: entries >= 0 and every row sums to 1 (and the entries are right)."""
    kwargs = {**pair, "alpha": alpha}
    got = student.cpi_mixture(**kwargs)
    assert_close(got, ref.cpi_mixture(**kwargs), inputs=kwargs)
    assert not (got < 0).any(), f"the mixture has negative probabilities: {got}\n  inputs: {kwargs}"
    sums = got.double().sum(dim=1)
    assert_close(sums, torch.ones_like(sums), what="the row sums of the mixture", atol=1e-5, inputs=kwargs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(pair=policy_pair())
def test_endpoints(student, pair):
    """alpha = 0 gives pi_old and alpha = 1 gives pi_new."""
    for alpha, expected in ((0.0, pair["pi_old"]), (1.0, pair["pi_new"])):
        assert_close(student.cpi_mixture(**pair, alpha=alpha), expected, what=f"the mixture with alpha = {alpha}",
                     inputs={**pair, "alpha": alpha})


@pytest.mark.points(1)
@settings(max_examples=10)
@given(pair=policy_pair(), alpha=ALPHAS)
def test_does_not_modify_inputs(student, pair, alpha):
    """cpi_mixture leaves both policies unchanged (and returns the right mixture)."""
    result = student.call("cpi_mixture", **pair, alpha=alpha)
    assert not result.mutated, f"cpi_mixture modified its input(s) in place: {', '.join(map(str, result.mutated))}"
    assert_close(result.value, ref.cpi_mixture(**pair, alpha=alpha), inputs={**pair, "alpha": alpha})
