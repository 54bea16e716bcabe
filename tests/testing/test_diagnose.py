"""Diagnosis: the kind of a failure, and the known misconception a student's outputs match."""

import pytest
import torch

from rlgrade.testing.compare import Mismatch, assert_close
from rlgrade.testing.diagnose import diagnose, error_kind
from rlgrade.testing.student import InProcessBackend, Student, StudentError


def reference(x, k=2.0):
    return x * k


def wrong_sign(x, k=2.0):
    return -x * k


def squares(x, k=2.0):
    return x * x * k


def in_place(x, k=2.0):
    return x.mul_(k)


VARIANTS = [("wrong_sign", "negates the result", wrong_sign), ("squares", "squares x", squares),
            ("in_place", "scales x in place", in_place)]
NAMESPACE = {"scale": reference}


def calls_of(fn, inputs):
    student = Student(InProcessBackend({"scale": fn}))
    for x in inputs:
        student.call("scale", x)
    return list(student._calls)


INPUTS = [torch.tensor([1.0, 2.0]), torch.tensor([-3.0, 0.5, 4.0]), torch.tensor([0.25])]


def test_a_student_whose_outputs_match_a_variant_is_named():
    assert diagnose("scale", calls_of(lambda x, k=2.0: -(k * x), INPUTS), VARIANTS, NAMESPACE) == [
        ("wrong_sign", "negates the result")]


def test_in_place_changes_are_part_of_the_match():
    def mutates(x, k=2.0):
        x *= k
        return x

    assert diagnose("scale", calls_of(mutates, INPUTS), VARIANTS, NAMESPACE) == [("in_place", "scales x in place")]


def test_a_variant_must_match_on_every_recorded_input():
    # squares on inputs 1 and 2 would agree with x*x*k only where x is 1: no match
    def half_wrong(x, k=2.0):
        return torch.where(x > 1, x * k + 1, x * k)

    assert diagnose("scale", calls_of(half_wrong, INPUTS), VARIANTS, NAMESPACE) == []


def test_a_student_who_agrees_with_the_reference_gets_no_diagnosis():
    assert diagnose("scale", calls_of(reference, [torch.tensor([1.0])]), VARIANTS, NAMESPACE) == []


def test_gradient_calls_are_replayed_with_gradients():
    student = Student(InProcessBackend({"scale": lambda x, k=2.0: -x * k}))
    student.grad("scale", (torch.tensor([1.0, 2.0]),), wrt=[0])
    assert diagnose("scale", list(student._calls), VARIANTS, NAMESPACE) == [("wrong_sign", "negates the result")]


def test_calls_that_raised_are_not_evidence():
    def broken(x, k=2.0):
        raise ValueError("nope")

    student = Student(InProcessBackend({"scale": broken}))
    with pytest.raises(StudentError):
        student.call("scale", torch.ones(1))
    assert diagnose("scale", list(student._calls), VARIANTS, NAMESPACE) == []


def kind_of(got, expected):
    with pytest.raises(Mismatch) as info:
        assert_close(got, expected)
    return error_kind(info.value)


@pytest.mark.parametrize("got, expected, kind", [
    (torch.tensor([-1.0, -2.0]), torch.tensor([1.0, 2.0]), "wrong sign"),
    (torch.tensor([0.5, 1.0]), torch.tensor([1.0, 2.0]), "off by a constant factor"),
    (torch.tensor([2.0, 3.0]), torch.tensor([1.0, 2.0]), "off by a constant"),
    (torch.tensor([float("nan"), 2.0]), torch.tensor([1.0, 2.0]), "NaN where a finite value is expected"),
    (torch.tensor([float("inf"), 2.0]), torch.tensor([1.0, 2.0]), "infinite where a finite value is expected (overflow?)"),
    (torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0]), "zero where a nonzero value is expected"),
    (torch.tensor([1.0, 5.0, 3.0]), torch.tensor([1.0, 2.0, 7.0]), "wrong values"),
    (torch.tensor([1.0]), torch.tensor([1.0, 2.0]), "wrong shape"),
    (torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor([1.0, 2.0]), "returns float64 for float32"),
])
def test_the_kind_of_a_numeric_error_is_named(got, expected, kind):
    assert kind_of(got, expected) == kind


@pytest.mark.parametrize("message, kind", [
    ("gae is not implemented yet (it raises NotImplementedError)", "not implemented"),
    ("gae raised IndexError:\n  index 3 is out of bounds", "raises IndexError"),
    ("gae did not return within 10 s (infinite loop?)", "times out"),
])
def test_student_errors_are_named_by_what_happened(message, kind):
    assert error_kind(StudentError(message)) == kind


def test_plain_assertions_group_by_their_sentence_not_their_numbers():
    assert error_kind(AssertionError("occupancy sums to 0.93, not 1")) == error_kind(
        AssertionError("occupancy sums to 1.2, not 1")) == "occupancy sums to #, not #"
