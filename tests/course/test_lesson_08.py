"""The lesson-8 sample submissions grade as designed, and the review names every planted bug."""

import pytest

from browser import load_page
from conftest import REPO, needs_sandbox
from rlgrade.course import Course
from rlgrade.grade import grade
from rlgrade.gradebook import Gradebook
from rlgrade.review import render_html, review

pytestmark = [pytest.mark.slow, needs_sandbox]
COURSE = Course(REPO)


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
    assert_review_names_every_planted_bug(Gradebook(f"sqlite:///{tmp_path}/gb.db"), tmp_path)


PLANTED = {  # examples/lesson_08/make_samples.py: the misconception each planted bug is
    ("bob", "ppo_clip_loss"): "max_instead_of_min",
    ("bob", "grpo_advantages"): "population_std",
    ("carol", "dpo_loss"): "rewards_not_detached",
    ("carol", "kto_loss"): "no_clamp",
    ("carol", "sequence_logprob"): "average_over_all_positions",
}


def assert_review_names_every_planted_bug(gradebook, tmp_path):
    report = review(gradebook, "lesson_08")
    for (student, question), name in PLANTED.items():
        named = {c.example.detail.get("misconception") for q in report.questions for c in q.clusters
                 if c.question == question and student in c.students and c.diagnosed}
        assert named, f"{student}'s {question} is in no cluster with a named misconception"
        assert name in named, (student, question, named)
    # every other wrong answer is mallory's (each function returns a constant 0): no misconception explains that
    unexplained = {s for q in report.questions for s in set(q.failing) - set(q.explained)}
    assert unexplained == {"mallory"}
    page = tmp_path / "review.html"
    page.write_text(render_html(report), encoding="utf-8")
    loaded = load_page(page, tmp_path)
    assert loaded.console == [] and 'id="clusters"' in loaded.dom
