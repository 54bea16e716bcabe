"""``rlgrade validate``: do the hidden tests separate right from wrong?

For every question of an assignment: the reference must get full marks, the
untouched release stub 0, every known misconception must lose points, every
independent correct rewrite must get full marks, and no test may pass an answer
that is all zeros (a property a blank answer satisfies earns nothing). Variants run in-process (they are
trusted course code) through the same codec round trip as submissions; the stub
runs as a real submission: the release notebook, through the sandbox.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rlgrade.course import GPU_SUFFIX, Course
from rlgrade.grade import GradeOptions, SubmissionFile, grade_submission, record_in_pool, run_hidden_tests
from rlgrade.pool import TaskFailed, run_tasks
from rlgrade.release import assignment_questions, release
from rlgrade.testing import casebook
from rlgrade.testing.plugin import TestOutcome
from rlgrade.testing.student import InProcessBackend, Student
from rlgrade.testing.variants import Variant, collect, load_module

MIN_MISCONCEPTIONS = 3
MIN_REWRITES = 1


def needs_variants(assignment: str) -> bool:
    """Whether the assignment's questions must come with misconceptions and rewrites.

    Not the GPU-marked tasks (``lesson_XX_gpu``): their functions are the lesson's problem-set
    functions, whose variants are validated there, against hidden tests that check them in detail.
    Here the hidden tests only ask whether a model learns with them, which most misconceptions
    (an undetached logged reward, swapped label smoothing at 0) do not change, and every variant
    would cost a training run of minutes. That a broken loss does *not* learn (negated or unshifted
    SFT, chosen and rejected swapped) is checked where the thresholds are calibrated:
    ``tests/test_finetune.py``. The reference must still get full marks, the stub and an all-zeros
    answer nothing.
    """
    return not assignment.endswith(GPU_SUFFIX)


@dataclass(frozen=True)
class VariantResult:
    """How one variant of a question scored."""

    variant: Variant
    score: float
    max_score: float
    failed: tuple[str, ...]
    """Names of the tests it failed."""
    named: bool = False
    """A misconception only: the review's diagnosis recognises it (names it on one of its failures)."""

    @property
    def ok(self) -> bool:
        if self.variant.kind == "misconception":
            return self.score < self.max_score
        return self.max_score > 0 and self.score == self.max_score


@dataclass(frozen=True)
class QuestionReport:
    question: str
    reference_score: float
    max_score: float
    stub_score: float
    misconceptions: tuple[VariantResult, ...]
    rewrites: tuple[VariantResult, ...]
    reference_failures: tuple[str, ...] = ()
    passed_by_zeros: tuple[str, ...] = ()
    """Tests that a constant-zeros answer of the right shape passes: they give points for nothing."""
    variants_required: bool = True
    """False for the GPU-marked tasks (see :func:`needs_variants`)."""

    @property
    def problems(self) -> list[str]:
        found = []
        if self.max_score == 0:
            found.append("has no hidden tests")
        if self.reference_score != self.max_score:
            found.append(f"reference scores {self.reference_score:g}/{self.max_score:g} (fails {', '.join(self.reference_failures)})")
        if self.stub_score != 0:
            found.append(f"untouched stub scores {self.stub_score:g}")
        if self.variants_required and len(self.misconceptions) < MIN_MISCONCEPTIONS:
            found.append(f"has {len(self.misconceptions)} misconceptions (at least {MIN_MISCONCEPTIONS} wanted)")
        if self.variants_required and len(self.rewrites) < MIN_REWRITES:
            found.append(f"has {len(self.rewrites)} rewrites (at least {MIN_REWRITES} wanted)")
        found += [f"{name} passes a constant-zeros answer (combine its property with a correctness check)"
                  for name in self.passed_by_zeros]
        found += [f"misconception {v.variant.name} ({v.variant.description}) passes every test"
                  for v in self.misconceptions if not v.ok]
        found += [f"rewrite {v.variant.name} loses points on {', '.join(v.failed)}" for v in self.rewrites if not v.ok]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ValidateReport:
    assignment: str
    questions: tuple[QuestionReport, ...]
    problems: tuple[str, ...] = ()
    """Problems not tied to one question (stale release, stub could not run, ...)."""

    @property
    def ok(self) -> bool:
        return not self.problems and all(q.ok for q in self.questions)


def variants_of(course: Course, assignment: str) -> dict[str, list[tuple[Variant, Path]]]:
    """question → [(variant, module path)] from ``autograder/<assignment>/variants/*.py``."""
    found: dict[str, list[tuple[Variant, Path]]] = {}
    for path in sorted((course.tests_dir(assignment) / "variants").glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = load_module(path, f"rlgrade_variants.{assignment}.{path.stem}")
        for variant, _fn in collect(module):
            found.setdefault(variant.question, []).append((variant, path))
    return found


TRIVIAL = "<zeros>"


def zeros_like_output(reference):
    """A wrong answer with the right shape: zeros (or False, 0) wherever the reference returns values."""
    import torch  # noqa: PLC0415

    def blank(value):
        if isinstance(value, torch.Tensor):
            return torch.zeros_like(value.detach())
        if isinstance(value, (tuple, list)):
            return type(value)(blank(v) for v in value)
        return type(value)() if isinstance(value, (bool, int, float, str)) else value

    def answer(*args, **kwargs):
        return blank(reference(*args, **kwargs))

    return answer


def variant_namespace(course: Course, assignment: str, replacements: dict[str, tuple[str, str]]) -> dict:
    """The reference module's namespace with some questions replaced by variants."""
    reference = load_module(course.solution_module(assignment), f"rlgrade_solutions.{assignment}")
    namespace = {k: v for k, v in vars(reference).items() if not k.startswith("__")}
    for question, (path, name) in replacements.items():
        if path == TRIVIAL:
            namespace[question] = zeros_like_output(getattr(reference, question))
            continue
        module = load_module(Path(path), f"rlgrade_variants.{assignment}.{Path(path).stem}")
        namespace[question] = getattr(module, name)
    return namespace


def _round_task(course_root: str, assignment: str, replacements: dict, questions: list[str] | None,
                cases: str | None = None) -> list[dict]:
    """The hidden tests against the reference with some questions replaced; ``cases``: the recorded
    cases a graded batch replays first (:mod:`rlgrade.testing.casebook`), so that a variant is judged
    the way a submission is."""
    course = Course(Path(course_root))
    student = Student(InProcessBackend(variant_namespace(course, assignment, replacements)))
    outcomes = run_hidden_tests(course, assignment, student, questions=tuple(questions) if questions else None,
                                profile="screening", cases=casebook.loads(cases) if cases else None)
    return [asdict(o) for o in outcomes]


def _stub_task(course_root: str, assignment: str, sandbox: bool, questions: list[str]) -> list[dict]:
    course = Course(Path(course_root))
    stub = SubmissionFile("untouched-stub", course.release_notebook(assignment))
    result = grade_submission(course, assignment, stub, GradeOptions(sandbox=sandbox, questions=tuple(questions)))
    if result.status != "graded":
        raise RuntimeError(f"the release notebook could not be graded: {result.error}")
    return [asdict(t) for q in result.questions.values() for t in q.tests]


def plan_rounds(variants: dict[str, list[tuple[Variant, Path]]], kind: str, only: set[str] | None) -> list[dict]:
    """Round i replaces each question by its i-th variant of ``kind``; questions stay independent."""
    per_question = {q: [(v, p) for v, p in vs if v.kind == kind] for q, vs in variants.items()
                    if only is None or q in only}
    rounds = []
    for i in range(max((len(vs) for vs in per_question.values()), default=0)):
        rounds.append({q: (str(vs[i][1]), vs[i][0].name) for q, vs in per_question.items() if i < len(vs)})
    return rounds


def validate(course: Course, assignment: str, *, questions: list[str] | None = None, sandbox: bool = True,
             workers: int | None = None) -> ValidateReport:
    """Run the reference, the stub, every misconception and every rewrite through the hidden tests."""
    all_questions = assignment_questions(course, assignment)
    unknown = set(questions or []) - set(all_questions)
    if unknown:
        raise ValueError(f"questions={sorted(unknown)!r} are not in {assignment} (it has {', '.join(all_questions)})")
    wanted = list(questions) if questions else all_questions
    problems = [f"{p.relative_to(course.root)} is stale: run `rlgrade release`"
                for p in release(course, only=[assignment], check=True).stale]
    variants = variants_of(course, assignment)
    # the cases a graded batch replays (no course secret: validation draws the tests' own inputs)
    cases = record_in_pool(course, assignment, GradeOptions(questions=tuple(wanted), secret=None), deadline=1800,
                           workers=workers or os.cpu_count() or 1)
    # the reference runs under hypothesis alone: it is what the recorded cases come from
    tasks = [(("reference", None), _round_task, (str(course.root), assignment, {}, wanted)),
             (("stub", None), _stub_task, (str(course.root), assignment, sandbox, wanted))]
    tasks.append((("zeros", None), _round_task,
                  (str(course.root), assignment, {q: (TRIVIAL, q) for q in wanted}, wanted, cases)))
    for kind in ("misconception", "rewrite"):
        for i, replacements in enumerate(plan_rounds(variants, kind, set(wanted))):
            tasks.append(((kind, i), _round_task,
                          (str(course.root), assignment, replacements, list(replacements), cases)))
    outcomes: dict = {}
    for key, result in run_tasks(tasks, workers=workers or os.cpu_count() or 1, deadline=1800):
        if isinstance(result, TaskFailed):
            problems.append(f"{key[0]} run failed: {result.reason}")
            result = []
        outcomes[key] = [TestOutcome(**o) for o in result]
    reports = [replace(question_report(q, outcomes, variants.get(q, [])), variants_required=needs_variants(assignment))
               for q in wanted]
    return ValidateReport(assignment, tuple(reports), tuple(problems))


def scores(outcomes: list[TestOutcome], question: str) -> tuple[float, float, tuple[str, ...]]:
    mine = [o for o in outcomes if o.question == question]
    return (sum(o.points for o in mine), sum(o.max_points for o in mine),
            tuple(o.name for o in mine if o.outcome != "passed"))


def question_report(question: str, outcomes: dict, variants: list[tuple[Variant, Path]]) -> QuestionReport:
    reference, max_score, reference_failures = scores(outcomes[("reference", None)], question)
    stub, _, _ = scores(outcomes[("stub", None)], question)
    results: dict[str, list[VariantResult]] = {"misconception": [], "rewrite": []}
    for kind in results:
        mine = [v for v, _ in variants if v.kind == kind]
        for i, variant in enumerate(mine):
            round_outcomes = outcomes.get((kind, i), [])
            score, variant_max, failed = scores(round_outcomes, question)
            named = any((o.detail or {}).get("misconception") == variant.name
                        for o in round_outcomes if o.question == question)
            results[kind].append(VariantResult(variant, score, variant_max or max_score, failed, named))
    zeros = [o for o in outcomes.get(("zeros", None), []) if o.question == question]
    passed_by_zeros = tuple(o.name for o in zeros if o.outcome == "passed")
    return QuestionReport(question, reference, max_score, stub, tuple(results["misconception"]),
                          tuple(results["rewrite"]), reference_failures, passed_by_zeros)
