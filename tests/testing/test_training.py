"""What a student sees of a training run: its learning curves, cut down from the worker's log.

The log comes from the submission's sandbox, so it is checked like any other untrusted value: only
finite numbers under the curves' names survive, in bounded number. No training runs here."""

from __future__ import annotations

from rlgrade.testing import training
from rlgrade.testing.training import MAX_CURVE_POINTS, MAX_RUNS, Trainings, learning_curve, stored_curves


def dpo_log(steps: int = 3) -> list[dict]:
    return [{"step": i, "loss": 0.7 - 0.1 * i, "accuracy": 0.5 + 0.1 * i, "margin": 0.01 * i, "tokens_per_s": 900.0 + i}
            for i in range(steps)]


def test_a_curve_keeps_the_step_and_the_plotted_values_but_not_the_timing():
    assert learning_curve(dpo_log(2)) == [{"step": 0.0, "loss": 0.7, "accuracy": 0.5, "margin": 0.0},
                                          {"step": 1.0, "loss": 0.6, "accuracy": 0.6, "margin": 0.01}]


def test_values_that_are_not_finite_numbers_become_gaps_and_junk_steps_are_dropped():
    log = [{"step": 0, "loss": float("nan"), "kl": float("inf")}, {"step": 1, "loss": "0.5", "kl": [1.0]},
           {"step": 2, "loss": True, "kl": {"nested": [1, 2]}}, {"step": 3, "loss": 10**400, "kl": 0.25},
           {"step": "4", "loss": 1.0}, {"step": float("nan"), "loss": 1.0}, {"loss": 1.0}, "step", None, [1, 2],
           {"step": 5, "loss": 0.123456789, "reward": None, "<script>": 1.0}]
    assert learning_curve(log) == [{"step": 0.0, "loss": None, "kl": None}, {"step": 1.0, "loss": None, "kl": None},
                                   {"step": 2.0, "loss": None, "kl": None}, {"step": 3.0, "loss": None, "kl": 0.25},
                                   {"step": 5.0, "loss": 0.123457, "kl": None}]


def test_a_log_with_nothing_to_plot_or_not_a_log_at_all_gives_no_curve():
    assert learning_curve([{"step": i, "tokens_per_s": 1.0} for i in range(3)]) == []
    assert learning_curve([]) == [] and learning_curve("loss") == [] and learning_curve({"step": 0}) == []


def test_a_huge_log_is_thinned_evenly():
    curve = learning_curve(dpo_log(10_000))
    assert len(curve) <= MAX_CURVE_POINTS and curve[0]["step"] == 0.0 and curve[-1]["step"] > 9_000


def test_stored_curves_keep_well_named_runs_with_something_to_plot_and_no_more_than_a_few():
    runs = [{"task": "dpo", "model": "tiny", "log": dpo_log()}, {"task": "<b>x</b>", "model": "tiny", "log": dpo_log()},
            {"task": "sft", "model": None, "log": dpo_log()}, {"task": "sft", "model": "tiny", "log": "junk"},
            "run", None]
    assert stored_curves(runs) == [{"task": "dpo", "model": "tiny", "log": learning_curve(dpo_log())}]
    assert len(stored_curves([runs[0]] * 1000)) == MAX_RUNS
    assert stored_curves("runs") == [] and stored_curves(None) == [] and stored_curves({"task": "dpo"}) == []


class FakeStudent:
    """Trains instantly: the dpo run logs three steps, the sft run fails."""

    def train(self, task, request, *, seconds):
        if task == "sft":
            raise training.StudentError("the loss is not a tensor")
        return dpo_log(), {}


def test_trainings_give_the_curves_of_their_finished_runs_only(monkeypatch):
    monkeypatch.setattr(training, "train_request", lambda task, model: {})
    trainings = Trainings(FakeStudent())
    assert trainings.curves() == []
    trainings("dpo", "tiny")
    try:
        trainings("sft", "tiny")
    except training.StudentError:
        pass
    assert trainings.curves() == [{"task": "dpo", "model": "tiny", "log": learning_curve(dpo_log())}]
