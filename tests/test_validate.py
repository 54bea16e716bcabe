from conftest import needs_sandbox, write
from rlgrade.validate import validate

pytestmark = needs_sandbox


def test_validate_reports_reference_stub_misconceptions_and_rewrites(tiny_course):
    report = validate(tiny_course, "lesson_01", workers=2)
    add_one, scale = report.questions
    assert (add_one.reference_score, add_one.max_score, add_one.stub_score) == (3.0, 3.0, 0.0)
    assert [v.variant.name for v in add_one.misconceptions] == ["add_two", "promotes", "minus"]
    assert all(v.ok for v in add_one.misconceptions) and all(v.ok for v in add_one.rewrites)
    assert add_one.ok and add_one.passed_by_zeros == ()
    # the review's diagnosis recognises each misconception from its own failures
    assert [v.named for v in add_one.misconceptions] == [True, True, True]
    # scale has tests but no variants: validate says so instead of passing
    assert not scale.ok and "0 misconceptions" in " ".join(scale.problems)
    assert not report.ok


def test_validate_flags_a_misconception_the_tests_miss_and_a_weak_test(tiny_course):
    write(tiny_course.tests_dir("lesson_01") / "variants" / "add_one.py",
          (tiny_course.tests_dir("lesson_01") / "variants" / "add_one.py").read_text()
          + "\n\n@misconception('add_one', 'mutates its input')\ndef in_place(x):\n    return x.add_(1)\n")
    write(tiny_course.tests_dir("lesson_01") / "test_weak.py", """
        import pytest
        import torch

        pytestmark = pytest.mark.question("add_one")


        def test_shape_only(student):
            '''add_one keeps the shape.'''
            assert student.add_one(torch.zeros(2)).shape == (2,)
        """)
    report = validate(tiny_course, "lesson_01", questions=["add_one"], workers=2)
    [add_one] = report.questions
    problems = " ".join(add_one.problems)
    assert "misconception in_place (mutates its input) passes every test" in problems
    assert "test_shape_only passes a constant-zeros answer" in problems


def test_validate_flags_a_stale_release(tiny_course):
    path = tiny_course.solution_module("lesson_01")
    path.write_text(path.read_text() + "# hand edit\n")
    report = validate(tiny_course, "lesson_01", questions=["add_one"], workers=2)
    assert any("stale" in p for p in report.problems) and not report.ok
