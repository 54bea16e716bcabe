"""Hidden tests for ``xavier_uniform_bound``: gain * sqrt(6 / (fan_in + fan_out)) as a Python float."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlgrade.testing import assert_close, reference_for

ref = reference_for(__file__)
pytestmark = pytest.mark.question("xavier_uniform_bound")

FANS = st.one_of(st.integers(1, 16), st.sampled_from([64, 128, 768, 1024, 4096, 50257]))
GAINS = st.sampled_from([1.0, 5.0 / 3.0, math.sqrt(2.0), 0.5, 2.0, 0.01])


def python_float(got: object, inputs: dict) -> None:
    assert type(got) is float, (f"xavier_uniform_bound must return a Python float, got {type(got).__name__}: "
                                f"{got!r} (use math.sqrt, or call float(...) on a tensor)\n  inputs: {inputs}")


@pytest.mark.points(3)
@given(fan_in=FANS, fan_out=FANS, gain=GAINS)
def test_matches_reference(student, fan_in, fan_out, gain):
    """The bound matches gain * sqrt(6 / (fan_in + fan_out)) for many layer sizes and gains."""
    inputs = {"fan_in": fan_in, "fan_out": fan_out, "gain": gain}
    assert_close(student.xavier_uniform_bound(**inputs), ref.xavier_uniform_bound(**inputs), rtol=1e-12, atol=0.0,
                 inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(fan_in=FANS, fan_out=FANS, gain=GAINS)
def test_returns_a_python_float(student, fan_in, fan_out, gain):
    """The result is a Python float (not a tensor or an int), with the right value."""
    inputs = {"fan_in": fan_in, "fan_out": fan_out, "gain": gain}
    got = student.xavier_uniform_bound(**inputs)
    python_float(got, inputs)
    assert_close(got, ref.xavier_uniform_bound(**inputs), rtol=1e-12, atol=0.0, inputs=inputs)


@pytest.mark.points(1)
@given(fan_in=FANS, fan_out=FANS, gain=GAINS)
def test_uniform_variance_is_glorot_variance(student, fan_in, fan_out, gain):
    """U(-a, a) has variance a^2 / 3, which must equal gain^2 * 2 / (fan_in + fan_out) (Glorot's condition)."""
    inputs = {"fan_in": fan_in, "fan_out": fan_out, "gain": gain}
    a = student.xavier_uniform_bound(**inputs)
    python_float(a, inputs)
    assert_close(a * a / 3.0, gain ** 2 * 2.0 / (fan_in + fan_out), rtol=1e-12, atol=0.0,
                 what="the variance a^2 / 3 of U(-a, a)", inputs=inputs)


@pytest.mark.points(1)
@settings(max_examples=10)
@given(fan_in=FANS, fan_out=FANS, gain=GAINS)
def test_symmetric_in_fans_and_linear_in_gain(student, fan_in, fan_out, gain):
    """Swapping fan_in and fan_out changes nothing, and the bound is proportional to the gain."""
    inputs = {"fan_in": fan_out, "fan_out": fan_in, "gain": gain}
    base = ref.xavier_uniform_bound(fan_in, fan_out)
    assert_close(student.xavier_uniform_bound(**inputs), gain * base, rtol=1e-12, atol=0.0,
                 what="the bound with fan_in and fan_out swapped", inputs=inputs)


KNOWN = [
    (2, 4, 1.0, 1.0),
    (100, 200, 1.0, math.sqrt(0.02)),
    (1, 1, 1.0, math.sqrt(3.0)),
    (3, 3, 2.0, 2.0),
    (768, 768, math.sqrt(2.0), math.sqrt(2.0) * math.sqrt(6.0 / 1536)),
]


@pytest.mark.points(1)
def test_known_values(student):
    """Hand-computed bounds: (2, 4) -> 1, (100, 200) -> sqrt(0.02), (1, 1) -> sqrt(3), a ReLU gain on 768 x 768."""
    for fan_in, fan_out, gain, expected in KNOWN:
        inputs = {"fan_in": fan_in, "fan_out": fan_out, "gain": gain}
        assert_close(student.xavier_uniform_bound(**inputs), expected, rtol=1e-12, atol=0.0, inputs=inputs)
