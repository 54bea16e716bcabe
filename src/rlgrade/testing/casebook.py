"""Hypothesis' generated cases, drawn once per batch and replayed against every submission.

Grading draws its inputs deterministically (``derandomize``, or the course secret's seed), so
every submission of a batch meets the same generated cases: drawing them again for each one
was about half of what grading a correct submission cost. ``rlgrade grade`` draws them once, by
running the hidden tests against the reference with a :class:`Recorder` plugin, and
each submission's session first replays them (:func:`replay_passes`):

- a test whose recorded cases all pass has passed on exactly the inputs hypothesis would have
  drawn (the student sees the same calls, in the same order: a test checks this);
- a test with a failing case (or one that cannot be replayed faithfully) runs under hypothesis
  as before, which finds that failure again and shrinks it: failures, their smallest inputs and
  their diagnosis are hypothesis' own.

A recorded case is the test's ``@given`` arguments and, for a test that draws inside its body
(``st.data()``), the values it drew, each with the strategy it came from. Cases are kept only for
tests the reference passed.
"""

from __future__ import annotations

import base64
import copy
import pickle
from dataclasses import dataclass, field

import pytest
from hypothesis.errors import StopTest, UnsatisfiedAssumption
from hypothesis.internal.compat import int_from_bytes
from hypothesis.internal.entropy import deterministic_PRNG
from hypothesis.internal.reflection import function_digest
from hypothesis.strategies import DataObject


@dataclass(frozen=True)
class Case:
    """One generated example of one hidden test, as the reference run met it."""

    given: dict
    """The ``@given`` arguments (without ``st.data()``'s), copied before the test body ran."""
    draws: tuple[tuple[str, object], ...] = ()
    """(the strategy's repr, the value) for each ``data.draw`` in the body, in order."""
    data_name: str | None = None
    """The name of the ``st.data()`` argument, if the test has one."""
    rejected: bool = False
    """The body stopped at an ``assume`` or a draw hypothesis discarded: not a checked case, but the
    student was called until then, so it is replayed up to the same point."""
    stopped_at: str | None = None
    """For a case rejected by a draw: that draw's strategy (the replay stops there too)."""


CaseBook = dict
"""pytest node id → tuple of :class:`Case`, in the order hypothesis ran them."""


class ReplayMismatch(Exception):
    """The test body drew something else than when it was recorded: replay cannot stand in for hypothesis."""


class _CaseEnded(Exception):
    """The replayed body reached the point where the recorded one was discarded."""


def is_hypothesis_test(item) -> bool:
    return getattr(getattr(item, "obj", None), "is_hypothesis_test", False)


def dumps(book: CaseBook) -> str:
    """The book as text: it travels in the pool's JSON results and in task arguments."""
    return base64.b64encode(pickle.dumps(book, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def merged(texts: list[str]) -> str:
    """One book from several (recorded in parallel, each for some of the questions)."""
    if len(texts) == 1:
        return texts[0]
    book: CaseBook = {}
    for text in texts:
        book.update(loads(text))
    return dumps(book)


def loads(text: str) -> CaseBook:
    """Only ever given what :func:`dumps` made in a grader process (never a submission's bytes)."""
    return pickle.loads(base64.b64decode(text))  # noqa: S301 - trusted: recorded by the grader from the reference


# ---------------------------------------------------------------- recording

class _RecordingData:
    """Stands in for ``st.data()``'s object in the reference run: draws through it and notes each value."""

    def __init__(self, data: DataObject):
        self._data = data
        self.draws: list[tuple[str, object]] = []
        self.pending: str | None = None
        """The strategy of a draw that has not returned (it raised: hypothesis discarded the case)."""

    def draw(self, strategy, label=None):
        self.pending = repr(strategy)
        value = self._data.draw(strategy, label)
        self.draws.append((self.pending, copy.deepcopy(value)))
        self.pending = None
        return value


@dataclass
class Recorder:
    """A pytest plugin: while the hidden tests run against the reference, keeps each hypothesis
    test's cases; ``book`` holds those of the tests that passed."""

    book: CaseBook = field(default_factory=dict)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items) -> None:
        """Only hypothesis tests have cases to record: the others (e.g. training runs) are skipped."""
        for item in items:
            if not is_hypothesis_test(item):
                item.add_marker(pytest.mark.skip(reason="no generated cases to record"))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        if not is_hypothesis_test(item):
            yield
            return
        handle, wrapped = item.obj.hypothesis, item.obj
        original, seed = handle.inner_test, wrapped._hypothesis_internal_use_seed
        if seed is None:
            # derandomize seeds from the inner test's digest: the wrapper below must not change it
            wrapped._hypothesis_internal_use_seed = int_from_bytes(function_digest(original))
        cases: list[Case] = []
        handle.inner_test = recording(original, set(handle._given_kwargs), cases)
        try:
            outcome = yield
        finally:
            handle.inner_test, wrapped._hypothesis_internal_use_seed = original, seed
        if outcome.excinfo is None and picklable(cases):
            self.book[item.nodeid] = tuple(cases)


def picklable(cases: list[Case]) -> bool:
    """Whether the cases can travel (a strategy may draw functions or other objects pickle refuses:
    then that test is not replayed, and draws its own cases in each submission's session)."""
    try:
        pickle.dumps(cases, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - pickle raises many kinds
        return False
    return True


def recording(test, given_names: set[str], cases: list[Case]):
    def record_case(*args, **kwargs):
        given = {name: value for name, value in kwargs.items() if name in given_names}
        data_name = next((name for name, value in given.items() if isinstance(value, DataObject)), None)
        case_given = copy.deepcopy({name: value for name, value in given.items() if name != data_name})
        data = _RecordingData(kwargs[data_name]) if data_name is not None else None
        if data is not None:
            kwargs = {**kwargs, data_name: data}
        try:
            result = test(*args, **kwargs)
        except (UnsatisfiedAssumption, StopTest):
            cases.append(Case(case_given, tuple(data.draws) if data else (), data_name, rejected=True,
                              stopped_at=data.pending if data else None))
            raise
        cases.append(Case(case_given, tuple(data.draws) if data else (), data_name))
        return result

    return record_case


# ---------------------------------------------------------------- replaying

class _ReplayData:
    """Stands in for ``st.data()``'s object: hands back the recorded draws, checking each strategy."""

    def __init__(self, case: Case):
        self._draws, self._case = list(case.draws), case
        self.interrupted = False
        """It raised (set even if the body caught that): the case did not run as recorded."""

    def draw(self, strategy, label=None):
        self.interrupted = True
        if not self._draws:
            if self._case.rejected and self._case.stopped_at == repr(strategy):
                raise _CaseEnded
            raise ReplayMismatch("the test drew more than when it was recorded")
        recorded, value = self._draws.pop(0)
        if recorded != repr(strategy):
            raise ReplayMismatch(f"the test drew from {strategy!r}, recorded {recorded}")
        self.interrupted = False
        return copy.deepcopy(value)


def replay_passes(item, cases: tuple[Case, ...]) -> bool:
    """Run ``item``'s test body on each recorded case; True when every case passed (as it did for
    the reference), False at the first that did not (hypothesis then takes over)."""
    test = item.obj.hypothesis.inner_test
    fixtures = {name: item.funcargs[name] for name in item._fixtureinfo.argnames if name in item.funcargs}
    for case in cases:
        kwargs = copy.deepcopy(case.given)
        data = _ReplayData(case) if case.data_name is not None else None
        if data is not None:
            kwargs[case.data_name] = data
        try:
            with deterministic_PRNG():  # as hypothesis seeds `random` (and numpy's) for each example
                test(**fixtures, **kwargs)
        except (UnsatisfiedAssumption, _CaseEnded):
            if not case.rejected:
                return False
            continue
        except (Exception, pytest.fail.Exception):  # noqa: BLE001 - any failure: hypothesis runs the test and reports it
            return False
        if case.rejected or (data is not None and data.interrupted):
            return False  # it went further than the reference's run did, or swallowed a mismatch
    return True
