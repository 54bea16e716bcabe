import pytest
import torch

from rlgrade.testing.compare import assert_close


def test_matching_values_nan_and_inf_pass():
    x = torch.tensor([1.0, float("nan"), float("inf")])
    assert_close(x.clone(), x)
    assert_close((x, 2.0), (x, 2.0))


@pytest.mark.parametrize("got, words", [
    (torch.tensor([1.0, 2.5]), "at index (1,): expected 2.0, got 2.5"),
    (torch.tensor([1.0, 2.0], dtype=torch.float64), "dtype torch.float64, expected torch.float32"),
    (torch.tensor([[1.0, 2.0]]), "shape (1, 2), expected (2,)"),
    (1.0, "should be a tensor of shape (2,)"),
    (torch.tensor([1.0, float("nan")]), "at index (1,)"),
])
def test_failures_say_where_and_what(got, words):
    with pytest.raises(AssertionError) as err:
        assert_close(got, torch.tensor([1.0, 2.0]), inputs={"x": torch.zeros(1)})
    assert words in str(err.value) and "x = tensor([0.])" in str(err.value)


def test_tolerance_defaults_follow_the_dtype():
    assert_close(torch.tensor(1.00001), torch.tensor(1.0))
    with pytest.raises(AssertionError, match="rtol=1e-07"):
        assert_close(torch.tensor(1.00001, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))


def test_tuples_must_have_the_same_length():
    with pytest.raises(AssertionError, match="should be a tuple of 2 values"):
        assert_close((torch.tensor(1.0),), (torch.tensor(1.0), torch.tensor(0.0)))


def test_python_floats_take_either_tolerance_alone():
    assert_close(1.0 + 1e-5, 1.0, rtol=1e-4)
    assert_close(1e-12, 0.0, atol=1e-9)
    with pytest.raises(AssertionError):
        assert_close(1.1, 1.0, rtol=1e-4)


@pytest.mark.parametrize("got, expected", [
    (torch.tensor([1.0, 2.0]), 5),                      # elementwise ==: its truth value is ambiguous
    ({"a": torch.ones(2)}, {"a": torch.zeros(2)}),
])
def test_values_that_cannot_be_compared_are_a_mismatch_not_an_error(got, expected):
    with pytest.raises(AssertionError, match="expected"):
        assert_close(got, expected)
