from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import create_engine, inspect, text

from rlgrade.export import export_csv
from rlgrade.grade import QuestionResult, SubmissionResult
from rlgrade.gradebook import Gradebook
from rlgrade.testing.plugin import TestOutcome


def result(student, score_a, *, status="graded", content="h1"):
    tests = (TestOutcome("test_a", "qa", "passed" if score_a else "failed", score_a, 2.0, None if score_a else "wrong"),)
    questions = {"qa": QuestionResult("qa", score_a, 2.0, tests),
                 "qb": QuestionResult("qb", 1.0, 1.0, (TestOutcome("test_b", "qb", "passed", 1.0, 1.0, None),))}
    return SubmissionResult(student, "lesson_01", f"{student}.py", content, status, None, score_a + 1.0, 3.0, questions)


def test_results_round_trip_through_the_gradebook(tmp_path):
    gb = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    gb.record(result("alice", 2.0))
    [back] = gb.current_results("lesson_01")
    assert back.to_json() == result("alice", 2.0).to_json()


def test_regrading_updates_the_current_result_and_keeps_history(tmp_path):
    gb = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    first = datetime(2026, 1, 1, tzinfo=timezone.utc)
    gb.record(result("alice", 0.0, content="old"), graded_at=first)
    gb.record(result("alice", 2.0, content="new"))
    [current] = gb.current_results("lesson_01")
    assert (current.score, current.content_hash) == (3.0, "new")
    assert [h.content_hash for h in gb.history("alice", "lesson_01")] == ["old", "new"]


def test_gradebook_reopens_from_its_url(tmp_path):
    url = f"sqlite:///{tmp_path}/gb.db"
    Gradebook(url).record(result("bob", 2.0))
    assert [r.student for r in Gradebook(url).current_results("lesson_01")] == ["bob"]
    assert Gradebook(url).assignments() == ["lesson_01"]


def test_csv_has_one_row_per_student_and_one_column_per_question(tmp_path):
    gb = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    gb.record(result("bob", 0.0))
    gb.record(result("alice", 2.0))
    assert export_csv(gb, "lesson_01", ["qa", "qb"]).splitlines() == [
        "student,qa,qb,score,max_score,status",
        "alice,2,1,3,3,graded",
        "bob,0,1,1,3,graded",
    ]


def test_text_a_submission_chose_is_stored_even_with_nul_and_lone_surrogates(tmp_path):
    gradebook = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    hostile = replace(result("mallory", 1.0), error="bad\x00\ud800", output="out\x00", warnings=("\udfff",))
    gradebook.record(hostile)
    [stored] = gradebook.current_results("lesson_01")
    assert (stored.error, stored.output, stored.warnings) == ("bad\ufffd?", "out\ufffd", ("?",))


CURVES = ({"task": "dpo", "model": "tiny", "log": [{"step": 0.0, "loss": 0.69, "accuracy": None},
                                                   {"step": 1.0, "loss": 0.5, "accuracy": 0.75}]},)


def test_training_curves_round_trip_through_the_gradebook_and_stay_out_of_the_json(tmp_path):
    gb = Gradebook(f"sqlite:///{tmp_path}/gb.db")
    gb.record(replace(result("alice", 2.0), curves=CURVES))
    gb.record(result("bob", 2.0))
    alice, bob = gb.current_results("lesson_01")
    assert (alice.curves, bob.curves) == (CURVES, ())
    assert alice.to_json() == result("alice", 2.0).to_json()  # not graded: a regrade's JSON compares equal


def test_a_gradebook_from_before_training_curves_gets_the_column(tmp_path):
    url = f"sqlite:///{tmp_path}/gb.db"
    Gradebook(url).record(result("alice", 2.0))
    engine = create_engine(url)
    with engine.begin() as connection:  # what an older rlgrade wrote
        connection.execute(text("ALTER TABLE gradings DROP COLUMN curves"))
    gradebook = Gradebook(url)
    assert "curves" in {c["name"] for c in inspect(engine).get_columns("gradings")}
    assert gradebook.current_results("lesson_01")[0].curves == ()
    engine.dispose()
