import pytest
import torch

from rlgrade.testing import Student, StudentError, reference_grad
from rlgrade.testing.student import InProcessBackend


def student_with(**functions):
    return Student(InProcessBackend(functions))


def test_calls_return_plain_copies_and_report_mutation():
    def bump(x):
        x.add_(1)
        return x

    student = student_with(bump=bump)
    x = torch.zeros(2)
    result = student.call("bump", x)
    assert torch.equal(result.value, torch.ones(2)) and result.mutated == (0,)
    assert torch.equal(x, torch.zeros(2))  # the caller's tensor never crosses the boundary


def test_gradients_match_the_reference_side_computation():
    fn = lambda a, b: ((a * b).sum(), a.detach())  # noqa: E731
    student = student_with(f=fn)
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    got = student.grad("f", (a,), {"b": b}, wrt=[0, "b"], output=0)
    _, expected = reference_grad(fn, (a,), {"b": b}, wrt=[0, "b"], output=0)
    assert all(torch.equal(g, e) for g, e in zip(got.grads, expected))
    assert torch.equal(got.grads[0], b) and torch.equal(got.grads[1], a)


@pytest.mark.parametrize("fn, words", [
    (lambda x: (_ for _ in ()).throw(NotImplementedError()), "not implemented yet"),
    (lambda x: x.detach().sum(), "not differentiable"),
    (lambda x: object(), "the output is a object, not a tensor"),
])
def test_failures_become_student_errors_with_a_reason(fn, words):
    student = student_with(f=fn)
    with pytest.raises(StudentError, match=words):
        student.grad("f", (torch.ones(2),), wrt=[0])


def test_missing_functions_are_named():
    with pytest.raises(StudentError, match="does not define a function named 'g'"):
        student_with().g(1)


def test_objects_with_behaviour_cannot_be_returned():
    with pytest.raises(StudentError, match="cannot send a value of type object"):
        student_with(f=lambda: object()).f()


FORBIDDEN = ["aten::_log_softmax"]


def log_softmax_by_hand(x):
    return x - torch.logsumexp(x, dim=-1, keepdim=True)


def aliased_builtin(x):
    from torch.nn.functional import log_softmax as ls  # an alias of the built-in
    return ls(x, -1)


def through_cross_entropy_internals(x):
    return -torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(x, -1), torch.zeros(len(x), dtype=torch.long))


def catches_the_refusal(x):
    try:
        return torch.log_softmax(x, -1)
    except RuntimeError:
        return log_softmax_by_hand(x)


def forbidding(fn):
    student = Student(InProcessBackend({"log_softmax": fn}))
    student._forbid["log_softmax"] = FORBIDDEN
    return student


def test_a_function_written_from_basic_operations_is_allowed():
    x = torch.randn(2, 3)
    assert torch.allclose(forbidding(log_softmax_by_hand).log_softmax(x), torch.log_softmax(x, -1))


@pytest.mark.parametrize("fn", [aliased_builtin, lambda x: x.log_softmax(-1), through_cross_entropy_internals,
                                catches_the_refusal])
def test_a_forbidden_builtin_is_caught_however_it_is_reached(fn):
    with pytest.raises(StudentError, match="calls torch's built-in _log_softmax, which this question asks you"):
        forbidding(fn).log_softmax(torch.randn(2, 3))


def test_other_functions_may_still_use_the_builtin():
    student = Student(InProcessBackend({"other": aliased_builtin}))
    student._forbid["log_softmax"] = FORBIDDEN
    assert student.other(torch.zeros(1, 2)).shape == (1, 2)


def test_in_place_changes_inside_list_arguments_are_reported():
    def scales_in_place(grads, factor):
        for g in grads:
            g.mul_(factor)
        return grads

    student = Student(InProcessBackend({"clip": scales_in_place}))
    result = student.call("clip", [torch.ones(2), torch.zeros(1), torch.ones(3)], factor=2.0)
    assert result.mutated == ("0[0]", "0[2]")  # the zeros did not change


@pytest.mark.parametrize("response", [["ok", True], 6.0, None, {"ok": "yes"}, {"value": 1}])
def test_a_worker_response_that_is_not_one_is_refused(response):
    from rlgrade.testing.student import checked_response
    from rlgrade.worker.codec import CodecError

    with pytest.raises(CodecError, match="malformed response"):
        checked_response(response)


def test_worker_text_is_bounded_and_storable():
    from rlgrade.testing.student import MAX_TEXT_CHARS, checked_load_errors, checked_response

    evil = "\udcff\x00"
    error = checked_response({"ok": False, "error": {"type": "E" + evil, "message": evil + "m" * 10**6}})["error"]
    for text in error.values():
        text.encode("utf-8")  # a lone surrogate cannot be stored (and failed the gradebook write)
        assert "\x00" not in text and len(text) <= MAX_TEXT_CHARS
    assert checked_response({"ok": False, "error": ["x"]})["error"]["message"] == "the worker sent a malformed error"
    assert checked_load_errors([5, {"cell": "a", "error": evil}]) == [{"cell": -1, "error": "?"},
                                                                      {"cell": -1, "error": "?\ufffd"}]
    assert checked_load_errors("not a list")[0]["cell"] == -1
