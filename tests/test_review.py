"""Review: clusters of students who fail the same way, explained share, and both renderers."""

import io
import re

import pytest
from rich.console import Console

from browser import load_page, needs_chromium
from rlgrade.grade import QuestionResult, SubmissionResult
from rlgrade.gradebook import Gradebook
from rlgrade.review import cluster, failures_of, histogram, render_html, render_terminal, review, sparkline
from rlgrade.testing.plugin import TestOutcome


def outcome(test, question="gae", *, passed=False, kind="wrong values", diagnosis=None, inputs=None, points=2.0):
    detail = {"kind": kind, "expected": "tensor([1., 2.])", "got": "tensor([1., 3.])", "index": [1],
              "expected_at": "2.0", "got_at": "3.0", "rtol": 1e-4, "atol": 1e-5, "differing": 1, "total": 2,
              "inputs": inputs or {"rewards": "tensor([1., 2.])"}}
    return TestOutcome(test, question, "passed" if passed else "failed", points if passed else 0.0, points,
                       None if passed else "the result differs ...", f"title of {test}", "" if passed else kind,
                       None if passed else diagnosis, False, None if passed else detail)


def result(student, tests, status="graded", error=None):
    by_q = {}
    for t in tests:
        by_q.setdefault(t.question, []).append(t)
    questions = {q: QuestionResult(q, sum(t.points for t in ts), sum(t.max_points for t in ts), tuple(ts))
                 for q, ts in by_q.items()}
    return SubmissionResult(student, "lesson_06", f"{student}.ipynb", "h", status, error,
                            sum(q.score for q in questions.values()), sum(q.max_score for q in questions.values()),
                            questions)


NO_DONE = "GAE without the done mask"


@pytest.fixture
def gradebook(tmp_path):
    gb = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    gb.record(result("alice", [outcome("test_matches", passed=True), outcome("test_lambda_one", passed=True)]))
    gb.record(result("bob", [outcome("test_matches", diagnosis=NO_DONE, inputs={"dones": "tensor([1, 0, 1])"}),
                             outcome("test_lambda_one", passed=True)]))
    gb.record(result("carol", [outcome("test_matches", diagnosis=NO_DONE, inputs={"dones": "tensor([1])"}),
                               outcome("test_lambda_one", passed=True)]))
    gb.record(result("dave", [outcome("test_matches", kind="NaN where a finite value is expected"),
                              outcome("test_lambda_one", kind="NaN where a finite value is expected")]))
    gb.record(result("erin", [], status="error", error="erin.ipynb is not valid JSON"))
    return gb


def test_students_failing_the_same_test_the_same_way_share_one_cluster(gradebook):
    report = review(gradebook, "lesson_06")
    [gae] = report.questions
    by_label = {(c.test, c.label): c for c in gae.clusters}
    assert by_label[("test_matches", NO_DONE)].students == ("bob", "carol")
    assert by_label[("test_matches", NO_DONE)].diagnosed
    assert by_label[("test_matches", "NaN where a finite value is expected")].students == ("dave",)
    assert by_label[("test_lambda_one", "NaN where a finite value is expected")].students == ("dave",)
    assert len(gae.clusters) == 3


def test_a_cluster_shows_its_smallest_counterexample(gradebook):
    report = review(gradebook, "lesson_06")
    [c] = [c for c in report.questions[0].clusters if c.diagnosed]
    assert c.example.student == "carol" and c.example.detail["inputs"] == {"dones": "tensor([1])"}


def test_explained_share_counts_failing_student_question_pairs(gradebook):
    report = review(gradebook, "lesson_06")
    assert (report.failing, report.explained) == (3, 2)
    assert report.explained_share == pytest.approx(2 / 3)
    assert report.unexplained_kinds == [("gae", "NaN where a finite value is expected", 1),
                                        ("gae", "NaN where a finite value is expected", 1)]


def test_pass_rate_and_scores_cover_graded_students_only(gradebook):
    [gae] = review(gradebook, "lesson_06").questions
    assert sorted(gae.scores) == [0.0, 2.0, 2.0, 4.0] and gae.pass_rate == 0.25
    assert histogram(gae.scores, gae.max_score, bins=4) == [1, 0, 2, 1]


def test_students_link_to_their_clusters_and_errors_are_kept(gradebook):
    report = review(gradebook, "lesson_06")
    students = {s.student: s for s in report.students}
    assert students["alice"].clusters == ()
    assert len(students["dave"].clusters) == 2
    assert students["erin"].status == "error" and "not valid JSON" in students["erin"].error


def test_public_checks_never_form_clusters():
    public = TestOutcome("check_gae", "gae", "failed", 0.0, 0.0, "expected 1", "public", "", None, True, None)
    assert failures_of(result("x", [public, outcome("test_matches")])) == failures_of(result("x", [outcome("test_matches")]))
    assert len(cluster(failures_of(result("x", [public])))) == 0


def test_review_of_an_assignment_without_results_says_so(tmp_path):
    with pytest.raises(ValueError, match="no results for lesson_06.*rlgrade grade"):
        review(Gradebook(f"sqlite:///{tmp_path}/empty.db"), "lesson_06")


def test_unknown_question_is_named(gradebook):
    with pytest.raises(ValueError, match="nope"):
        review(gradebook, "lesson_06", questions=["nope"])


def test_terminal_view_fits_80_columns_and_names_the_misconception(gradebook):
    console = Console(width=80, file=io.StringIO(), record=True)
    for renderable in render_terminal(review(gradebook, "lesson_06"), question="gae"):
        console.print(renderable)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "matches: GAE without the done" in text and "bob" in text and "not valid JSON" in text
    assert "first difference at index (1,)" in text and "rtol=0.0001" in text


def test_sparkline_draws_counts():
    assert sparkline([0, 1, 2, 4]) == " ▂▄█"


def test_html_report_has_every_section_and_escapes_student_text(gradebook):
    gradebook.record(result("<script>x</script>", [outcome("test_matches")]))
    html = render_html(review(gradebook, "lesson_06"))
    for section in ('id="summary"', 'id="questions"', 'id="clusters"', 'id="students"', "<svg"):
        assert section in html
    assert "matches: GAE without the done mask" in html
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert not re.search(r"""(src|href)=["']?https?://""", html), "the report must not load anything from the network"


@needs_chromium
def test_html_report_renders_in_headless_chromium_without_console_errors(gradebook, tmp_path):
    page = tmp_path / "review.html"
    page.write_text(render_html(review(gradebook, "lesson_06")), encoding="utf-8")
    loaded = load_page(page, tmp_path)
    assert loaded.console == []
    for section in ('id="summary"', 'id="questions"', 'id="clusters"', 'id="students"', 'class="hist"'):
        assert section in loaded.dom
    assert loaded.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_the_chromium_check_does_see_console_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>notDefined();</script></body></html>", encoding="utf-8")
    assert any("notDefined" in line for line in load_page(page, tmp_path).console)
