"""Every shipped problem set: its hidden tests validate (reference full, stub 0, misconceptions
rejected, rewrites accepted, nothing passed by an all-zeros answer) and it matches the spec's list."""

import pytest

from conftest import REPO, needs_sandbox
from rlgrade.course import Course
from rlgrade.release import assignment_questions
from rlgrade.validate import needs_variants, validate

COURSE = Course(REPO)


@pytest.mark.slow
@needs_sandbox
@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_problem_set_validates(assignment):
    report = validate(COURSE, assignment, workers=2)
    problems = list(report.problems) + [f"{q.question}: {p}" for q in report.questions for p in q.problems]
    assert not problems, "\n".join(problems)
    assert [q.question for q in report.questions] == assignment_questions(COURSE, assignment)
    for q in report.questions:
        assert q.max_score > 0
        assert not needs_variants(assignment) or (len(q.misconceptions) >= 3 and len(q.rewrites) >= 1)


def spec_gpu_functions() -> dict[str, set[str]]:
    """lesson_XX → the functions its GPU-marked tasks train with, from the spec's "## GPU-marked tasks"."""
    import re

    text = (REPO.parent / "shared" / "spec" / "problem-sets.md").read_text(encoding="utf-8")
    section = text.split("## GPU-marked tasks", 1)[1].split("\n## ", 1)[0]
    lessons: dict[str, set[str]] = {}
    for line in section.splitlines():
        lesson = re.search(r"\(lesson (\d+)\)", line)
        if line.startswith("- ") and lesson:
            lessons.setdefault(f"lesson_{int(lesson.group(1)):02d}", set()).update(re.findall(r"`(\w+)`", line))
    return lessons


def spec_functions() -> dict[str, list[str]]:
    """lesson_XX → function names, in order, from the spec's "## Lesson N" sections."""
    import re

    spec = (REPO.parent / "shared" / "spec" / "problem-sets.md")
    if not spec.is_file():
        pytest.skip("the spec (../shared/spec/problem-sets.md) is not beside this checkout")
    lessons, current = {}, None
    for line in spec.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## Lesson (\d+)", line)
        if heading:
            current = f"lesson_{int(heading.group(1)):02d}"
            lessons[current] = []
        elif line.startswith("## "):
            current = None
        elif current and line.startswith("- "):
            lessons[current] += re.findall(r"`(\w+)\(", line)
    return lessons


@pytest.mark.parametrize("assignment", [a for a in COURSE.assignments() if needs_variants(a)])
def test_problem_set_has_exactly_the_spec_functions_in_order(assignment):
    expected = spec_functions().get(assignment)
    assert expected is not None, f"{assignment} is not in the spec"
    assert assignment_questions(COURSE, assignment) == expected


@pytest.mark.parametrize("assignment", [a for a in COURSE.assignments() if not needs_variants(a)])
def test_gpu_tasks_train_with_problem_set_functions_in_their_order(assignment):
    """A GPU-marked assignment's questions are functions of its lesson's problem set (whose hidden
    tests and variants check them in detail), in the problem set's order within each task."""
    lesson = COURSE.lesson_of(assignment)
    problem_set = assignment_questions(COURSE, lesson)
    questions = assignment_questions(COURSE, assignment)
    assert set(questions) <= set(problem_set), set(questions) - set(problem_set)
    assert set(questions) >= set(spec_gpu_functions()[lesson])
