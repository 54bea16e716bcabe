"""The pytest plugin that runs hidden tests against one submission and collects grades.

Loaded by ``autograder/conftest.py``. Tests get a session-scoped ``student`` fixture
(a :class:`~rlgrade.testing.student.Student`) and, for the GPU-marked tasks, ``trainings`` (one
training run per task and model, :mod:`rlgrade.testing.training`); points and questions come
from markers:

- ``@pytest.mark.points(n)`` — the test's weight (default 1);
- ``@pytest.mark.question("name")`` — the graded function (default: the test file's
  name without ``test_``);
- ``@pytest.mark.forbid("aten::_log_softmax", ...)`` — torch operators the question's
  function may not run (it asks students to implement that built-in). Checked in the
  worker at the dispatcher, for every call of the function, so aliases do not hide them;
- ``@pytest.mark.gpu`` — the test fine-tunes a real model: where the grader has no CUDA it is
  recorded as skipped ("needs GPU") and left out of the maximum, so that the submission gets
  neither zero nor full marks for it (the tiny-twin tests of the same task still run).

Results are frozen :class:`TestOutcome` records kept in ``config.stash`` (no globals); so are the
session's training runs, whose learning curves (:func:`collected_curves`) go to the student's feedback.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from rlgrade.testing.casebook import is_hypothesis_test, replay_passes
from rlgrade.testing.diagnose import diagnose, error_kind
from rlgrade.testing.student import Student, StudentError

MAX_MESSAGE_CHARS = 3000
NEEDS_GPU = "needs GPU"
"""The reason a ``gpu``-marked test is skipped on a grader without CUDA."""

settings.register_profile(
    "grading",
    derandomize=True,  # a regrade draws the same inputs, so it gives the same score
    max_examples=25,
    deadline=None,
    database=None,
    print_blob=False,
    # shrink (the smallest failing input is what a TA reads) but skip "explain",
    # which re-runs a failing test hundreds of times
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("student", parent=settings.get_profile("grading"), derandomize=False, max_examples=10)
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
SHRINK_MODES = ("first", "all", "none")
"""Which failing property tests hypothesis shrinks (``--rlgrade-shrink``): the first of each question
(default), every one, or none. Shrinking is most of what grading a wrong answer costs (each failing
test of a question shrinks separately, often the same mistake several times); the others report the
first failing input hypothesis met. Scores are the same in every mode."""
# `rlgrade validate` only needs to know whether a variant fails, not its smallest
# failing input: the same inputs as "grading", without the (slow) shrink phase
settings.register_profile("screening", parent=settings.get_profile("grading"),
                          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target])


@dataclass(frozen=True)
class TestOutcome:
    """One hidden test's result for one submission."""

    __test__ = False  # not a pytest test class

    name: str
    question: str
    outcome: str
    """'passed', 'failed', 'error' (the test itself broke) or 'skipped' (not graded here, e.g. a
    ``gpu`` test without CUDA: 0 of 0 points; ``message`` says why)."""
    points: float
    max_points: float
    message: str | None
    title: str = ""
    """The test's docstring, first line: safe to show students."""
    kind: str = ""
    """The shape of the failure ("wrong sign", "NaN where a finite value is expected", "raises
    ValueError", ...): students with the same test and kind fail the same way."""
    diagnosis: str | None = None
    """The known misconception the failure matches (its description), if one does."""
    public: bool = False
    """A public check from the notebook (worth no points; its message is the student's own)."""
    detail: dict | None = None
    """For TAs only: expected vs got, first differing index, tolerance, the (shrunk) inputs,
    the matched misconception's name. Never shown to students."""


SECRET_ENV = "RLGRADE_SECRET"
"""A course's grading secret. Set, it seeds every hidden property test's inputs (with the
test's id), so that a leaked copy of last year's hidden tests does not reveal this year's
inputs; the same secret draws the same inputs, so grading stays deterministic. Unset, the
inputs follow from the hidden tests' own code (hypothesis' ``derandomize``)."""

STUDENT_KEY = pytest.StashKey[Student]()
RESULTS_KEY = pytest.StashKey[dict]()
META_KEY = pytest.StashKey[dict]()
VARIANTS_KEY = pytest.StashKey[dict]()
TRAININGS_KEY = pytest.StashKey[object]()
FAILED_QUESTIONS_KEY = pytest.StashKey[set]()
CASES_KEY = pytest.StashKey[dict]()
"""The batch's recorded hypothesis cases (:mod:`rlgrade.testing.casebook`), when the grader has them."""


def pytest_addoption(parser) -> None:
    group = parser.getgroup("rlgrade")
    group.addoption("--student", default=None, help="a submission (.py or .ipynb) to run the hidden tests against")
    group.addoption("--student-no-sandbox", action="store_true", help="run --student without bubblewrap")
    group.addoption("--rlgrade-profile", default="grading", choices=["grading", "student", "screening"])
    group.addoption("--rlgrade-shrink", default="first", choices=SHRINK_MODES,
                    help="which failing property tests to shrink: the first of each question (default), all, none")
    group.addoption("--rlgrade-questions", default=None, help="comma-separated questions to run (default: all)")
    group.addoption("--rlgrade-secret", default=None, help=f"the course's grading secret (default: ${SECRET_ENV})")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "points(n): points for this test (default 1)")
    config.addinivalue_line("markers", "question(name): the graded function this test checks")
    config.addinivalue_line("markers", "forbid(*ops): torch operators (aten names) the question's function may not use")
    config.addinivalue_line("markers", "gpu: the test fine-tunes a model: graded only where a GPU is (--cluster routes it)")
    settings.load_profile(config.getoption("--rlgrade-profile"))
    config.stash[RESULTS_KEY] = {}
    config.stash[META_KEY] = {}
    config.stash[FAILED_QUESTIONS_KEY] = set()


def question_of(item) -> str:
    marker = item.get_closest_marker("question")
    if marker is not None:
        return marker.args[0]
    stem = Path(str(item.fspath)).stem
    return stem.removeprefix("test_")


def points_of(item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker is not None else 1.0


def pytest_collection_modifyitems(config, items) -> None:
    wanted = config.getoption("--rlgrade-questions")
    wanted = set(wanted.split(",")) if wanted else None
    keep, drop = [], []
    for item in items:
        question = question_of(item)
        (keep if wanted is None or question in wanted else drop).append(item)
        doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
        title = doc.strip().splitlines()[0] if doc.strip() else item.name
        config.stash[META_KEY][item.nodeid] = (question, points_of(item), title)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    if not cuda_available():
        for item in keep:
            if item.get_closest_marker("gpu") is not None:
                item.add_marker(pytest.mark.skip(reason=NEEDS_GPU))
    secret = config.getoption("--rlgrade-secret") or os.environ.get(SECRET_ENV)
    if secret:
        for item in keep:
            seed_inputs(item, secret)


def cuda_available() -> bool:
    """Whether this grader can run the ``gpu``-marked tests (the worker runs on the same machine)."""
    import torch  # noqa: PLC0415

    return torch.cuda.is_available()


def counts_in_maximum(item) -> bool:
    """Whether a collected test's points count in the submission's maximum: not when it is skipped
    here (a ``gpu`` test without CUDA), so that a skip costs nothing and earns nothing."""
    return item.get_closest_marker("skip") is None


def seed_inputs(item, secret: str) -> None:
    if is_hypothesis_test(item):
        test = item.obj
        # what hypothesis' @seed decorator sets; it takes precedence over derandomize
        test._hypothesis_internal_use_seed = int.from_bytes(hashlib.sha256(f"{secret}\0{item.nodeid}".encode()).digest()[:16], "big")


@pytest.fixture(scope="session")
def student(request) -> Student:
    config = request.config
    if STUDENT_KEY in config.stash:
        return config.stash[STUDENT_KEY]
    path = config.getoption("--student")
    if path is None:
        raise pytest.UsageError("no submission: run through `rlgrade grade` or pass --student PATH")
    from rlgrade.grade import GradeOptions, open_submission, options_for  # noqa: PLC0415 - only for this developer path

    # the assignment is the hidden tests' folder (autograder/lesson_08_gpu/...): GPU tasks get their limits
    assignment = request.session.items[0].path.parent.name if request.session.items else ""
    options = options_for(assignment, GradeOptions(sandbox=not config.getoption("--student-no-sandbox")))
    backend = open_submission(Path(path), sandbox=options.sandbox, limits=options.limits,
                              budget_seconds=options.submission_seconds)
    request.addfinalizer(backend.close)
    config.stash[STUDENT_KEY] = Student(backend)
    return config.stash[STUDENT_KEY]


@pytest.fixture(scope="session")
def trainings(request, student):
    """The GPU-marked tasks' training runs of this submission (``trainings("sft", "tiny")``), one per
    task and model, shared by the tests that measure them (see :mod:`rlgrade.testing.training`)."""
    from rlgrade.testing.training import Trainings  # noqa: PLC0415 - only the GPU-marked tasks need it

    request.config.stash[TRAININGS_KEY] = Trainings(student)  # its runs' curves go into the result
    return request.config.stash[TRAININGS_KEY]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    student = item.config.stash.get(STUDENT_KEY, None)
    if student is not None:
        student._calls.clear()  # a diagnosis replays only this test's calls
        forbid = item.get_closest_marker("forbid")
        if forbid is not None:
            student._forbid[question_of(item)] = [str(op) for op in forbid.args]
    if not is_hypothesis_test(item) or shrinks(item):
        yield
        return
    test = item.obj
    chosen = test._hypothesis_internal_use_settings  # what hypothesis reads when the test runs
    test._hypothesis_internal_use_settings = settings(chosen, phases=[p for p in chosen.phases if p in NO_SHRINK])
    try:
        yield
    finally:
        test._hypothesis_internal_use_settings = chosen


def shrinks(item) -> bool:
    """Whether hypothesis may shrink this test's failure (``--rlgrade-shrink``)."""
    mode = item.config.getoption("--rlgrade-shrink")
    return mode == "all" or (mode == "first" and question_of(item) not in item.config.stash[FAILED_QUESTIONS_KEY])


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """A hypothesis test with recorded cases first replays them: all pass, and it has passed on the
    inputs hypothesis would draw; otherwise hypothesis runs it (and finds and shrinks the failure)."""
    cases = pyfuncitem.config.stash.get(CASES_KEY, {}).get(pyfuncitem.nodeid)
    if cases is None:
        return None
    if replay_passes(pyfuncitem, cases):
        return True
    student = pyfuncitem.config.stash.get(STUDENT_KEY, None)
    if student is not None:
        student._calls.clear()  # the diagnosis replays hypothesis' calls, not the replay's
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        record(item, call, report)


def record(item, call, report) -> None:
    question, points, title = item.config.stash[META_KEY][item.nodeid]
    kind, diagnosis, detail = "", None, None
    if report.passed:
        state, message = "passed", None
    elif report.skipped:
        state, message = "skipped", skip_reason(report)
    else:
        failed_in_test = report.when == "call" and call.excinfo is not None
        state = "failed" if failed_in_test else "error"
        message = explain(call.excinfo) if call.excinfo is not None else str(report.longrepr)
        if call.excinfo is not None:
            kind, diagnosis, detail = analyse(item, question, root_exception(call.excinfo.value))
    if state in ("failed", "error"):
        item.config.stash[FAILED_QUESTIONS_KEY].add(question)
    item.config.stash[RESULTS_KEY][item.nodeid] = TestOutcome(
        name=item.name, question=question, outcome=state, points=points if state == "passed" else 0.0,
        max_points=0.0 if state == "skipped" else points,  # a skipped test is not graded: no part of the maximum
        message=message[:MAX_MESSAGE_CHARS] if message else None, title=title,
        kind=kind, diagnosis=diagnosis, detail=detail,
    )


def analyse(item, question: str, exc: BaseException) -> tuple[str, str | None, dict]:
    """The failure's kind, the misconception it matches, and the details a TA reads."""
    detail = dict(getattr(exc, "detail", None) or {})
    student = item.config.stash.get(STUDENT_KEY, None)
    matches = []
    if student is not None and not isinstance(exc, StudentError):
        namespace, variants = known_variants(item.config, Path(str(item.fspath)).parent, question)
        matches = diagnose(question, list(student._calls), variants, namespace)
    if matches:
        detail["misconception"] = matches[0][0]
    return error_kind(exc), (matches[0][1] if matches else None), detail


def known_variants(config, tests_dir: Path, question: str) -> tuple[dict, list]:
    """(reference namespace, [(name, description, fn)]) for a question, loaded once per session."""
    cache = config.stash.setdefault(VARIANTS_KEY, {})
    key = (tests_dir, question)
    if key not in cache:
        from rlgrade.testing.variants import collect, load_module, reference_for  # noqa: PLC0415

        namespace = dict(vars(reference_for(str(tests_dir / "conftest.py"))))
        path = tests_dir / "variants" / f"{question}.py"
        module = load_module(path, f"rlgrade_variants.{tests_dir.name}.{question}") if path.is_file() else None
        variants = [(v.name, v.description, fn) for v, fn in collect(module)
                    if v.kind == "misconception" and v.question == question] if module else []
        cache[key] = (namespace, variants)
    return cache[key]


def root_exception(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # e.g. hypothesis' FlakyFailure
        exc = exc.exceptions[0]
    return exc


def skip_reason(report) -> str:
    """Why the test was skipped ("needs GPU"), without pytest's "Skipped: " in front."""
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def explain(excinfo) -> str:
    """The assertion's own message plus hypothesis' falsifying example, without our traceback."""
    exc = root_exception(excinfo.value)
    text = str(exc) if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {exc}"
    notes = [str(n) for n in getattr(exc, "__notes__", [])]
    return text + ("\n" + "\n".join(notes) if notes else "")


def collected_results(config) -> list[TestOutcome]:
    return list(config.stash[RESULTS_KEY].values())


def collected_curves(config) -> list[dict]:
    """The learning curves of the session's finished training runs (none without a GPU-marked task),
    checked and cut down (:func:`rlgrade.testing.training.stored_curves`): they go to the student."""
    trainings = config.stash.get(TRAININGS_KEY, None)
    return trainings.curves() if trainings is not None else []
