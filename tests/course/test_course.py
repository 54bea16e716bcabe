"""Every shipped problem set: its hidden tests validate (reference full, stub 0, misconceptions
rejected, rewrites accepted, nothing passed by an all-zeros answer) and it matches the spec's list."""

import pytest

from conftest import REPO, needs_sandbox
from rlgrade.course import Course
from rlgrade.release import assignment_questions
from rlgrade.validate import validate

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
        assert len(q.misconceptions) >= 3 and len(q.rewrites) >= 1 and q.max_score > 0


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


@pytest.mark.parametrize("assignment", COURSE.assignments())
def test_problem_set_has_exactly_the_spec_functions_in_order(assignment):
    expected = spec_functions().get(assignment)
    assert expected is not None, f"{assignment} is not in the spec"
    assert assignment_questions(COURSE, assignment) == expected
