"""Why did a hidden test fail? The shape of the error, and the known misconception it matches.

Runs in the grader process after a test fails. The diagnosis replays the calls the
test made to the student's function (the failing, shrunk input last, and the other
inputs hypothesis drew before it) on every known misconception of the question, in
process (variants are trusted course code), through the same codec round trip as the
student's calls. A variant is named when it reproduces every one of the student's
results — values, gradients and in-place changes — while the student differs from
the reference on at least one of them.
"""

from __future__ import annotations

import re
from typing import Callable

from rlgrade.testing.compare import Mismatch, assert_close
from rlgrade.testing.student import CallResult, InProcessBackend, RecordedCall, Student, StudentError

MAX_REPLAYED_CALLS = 12

STUDENT_ERROR_KINDS = [
    ("is not implemented yet", "not implemented"),
    ("does not define a function", "function missing"),
    ("did not return within", "times out"),
    ("ended the worker", "crashes the worker"),
    ("used up its grading time", "out of grading time"),
    ("could not differentiate", "not differentiable"),
    ("which this question asks you", "uses a forbidden built-in"),
    ("returned something that cannot be read", "returns an unsupported value"),
]


def error_kind(exc: BaseException) -> str:
    """A short label that is the same for students who fail a test the same way."""
    if isinstance(exc, Mismatch):
        return str(exc.detail.get("kind", "wrong values"))
    text = str(exc)
    if isinstance(exc, StudentError):
        for needle, kind in STUDENT_ERROR_KINDS:
            if needle in text:
                return kind
        raised = re.search(r" raised (\w+)", text)
        return f"raises {raised.group(1)}" if raised else "fails when called"
    if isinstance(exc, AssertionError):
        first = text.strip().splitlines()[0] if text.strip() else "assertion failed"
        # numbers differ from student to student; the sentence around them does not
        return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", first)[:100]
    return f"test error: {type(exc).__name__}"


def same_result(a: CallResult, b: CallResult) -> bool:
    """Same value, same gradients and the same arguments changed in place (dtype tolerances)."""
    try:
        assert_close(a.value, b.value)
        if (a.grads is None) != (b.grads is None):
            return False
        if a.grads is not None:
            assert_close(tuple(a.grads), tuple(b.grads))
    except AssertionError:
        return False
    return set(a.mutated) == set(b.mutated)


def replay(question: str, fn: Callable, namespace: dict, calls: list[RecordedCall]) -> list[CallResult | None]:
    """``fn``'s results on the recorded calls (None where it raised)."""
    student = Student(InProcessBackend({**namespace, question: fn}))
    results = []
    for call in calls:  # the codec round trip hands each replay its own copy of the arguments
        args, kwargs = call.args, call.kwargs
        try:
            if call.grad:
                results.append(student.grad(question, args, kwargs, wrt=call.grad["wrt"], output=call.grad.get("output"),
                                            cotangent=call.grad.get("cotangent")))
            else:
                results.append(student.call(question, *args, **kwargs))
        except Exception:  # noqa: BLE001 - a variant that raises simply does not match
            results.append(None)
    return results


def diagnose(question: str, calls: list[RecordedCall], variants: list[tuple[str, str, Callable]],
             namespace: dict) -> list[tuple[str, str]]:
    """The (name, description) of every misconception that reproduces the student's results.

    ``variants`` are (name, description, function); ``namespace`` is the reference
    module's (it supplies ``question``'s reference and anything a variant calls).
    """
    mine = [c for c in calls if c.fn == question and c.result is not None][-MAX_REPLAYED_CALLS:]
    if not mine or question not in namespace:
        return []
    expected = replay(question, namespace[question], namespace, mine)
    if all(e is not None and same_result(e, c.result) for e, c in zip(expected, mine)):
        return []  # nothing visibly wrong in these calls: no evidence to match against
    matches = []
    for name, description, fn in variants:
        got = replay(question, fn, namespace, mine)
        if all(g is not None and same_result(g, c.result) for g, c in zip(got, mine)):
            matches.append((name, description))
    return matches
