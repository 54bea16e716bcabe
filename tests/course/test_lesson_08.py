"""The shipped lesson-8 problem set: hidden tests validated, samples graded as designed."""

import pytest

from conftest import REPO, needs_sandbox
from rlgrade.course import Course
from rlgrade.grade import grade
from rlgrade.release import assignment_questions
from rlgrade.validate import validate

pytestmark = [pytest.mark.slow, needs_sandbox]
COURSE = Course(REPO)


def test_every_question_has_tests_variants_and_validates():
    report = validate(COURSE, "lesson_08", workers=2)
    problems = list(report.problems) + [f"{q.question}: {p}" for q in report.questions for p in q.problems]
    assert not problems, "\n".join(problems)
    assert [q.question for q in report.questions] == assignment_questions(COURSE, "lesson_08")
    for q in report.questions:
        assert len(q.misconceptions) >= 3 and len(q.rewrites) >= 1 and q.max_score > 0


def test_sample_submissions_score_as_designed(tmp_path):
    report = grade(COURSE, "lesson_08", [REPO / "examples" / "lesson_08" / "submissions"],
                   gradebook_url=f"sqlite:///{tmp_path}/gb.db", workers=2)
    rows = {r.student: r for r in report.results}
    full = rows["alice"].max_score
    assert rows["alice"].score == full > 0

    def lost(student):
        return {q.name for q in rows[student].questions.values() if q.score < q.max_score}

    assert lost("bob") == {"ppo_clip_loss", "grpo_advantages"}
    assert lost("carol") == {"dpo_loss", "kto_loss", "sequence_logprob"}
    assert lost("dave") == {"kl_penalized_rewards"}  # its crash costs that question only
    assert "ended the worker process" in rows["dave"].questions["kl_penalized_rewards"].tests[0].message
    assert any("nonexistent_helpers" in w for w in rows["dave"].warnings)
    assert lost("erin") == {"grpo_loss"}
    assert "did not return within" in rows["erin"].questions["grpo_loss"].tests[0].message
    assert rows["frank"].status == "error" and "not valid JSON" in rows["frank"].error
    assert rows["frank"].max_score == full
    assert rows["grace"].score == 0 and rows["mallory"].score == 0
