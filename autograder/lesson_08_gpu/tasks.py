"""The DPO and GRPO tasks' hidden tests, collected once per function each task trains with.

A task is graded as a whole (the grader cannot tell which of its functions made a run fail), so each
function's test module (``test_<function>.py``) imports the task's tests below under its own
``question`` mark: the same checks of the same run (one run per model, the ``trainings`` fixture), the
task's points split between its functions. SmolLM2 only where the grader has CUDA (``gpu``: skipped,
"needs GPU", elsewhere). PROVISIONAL thresholds: see thresholds.py.
"""

from pathlib import Path

import pytest

from autograder.lesson_08_gpu.thresholds import DPO_ACCURACY, GRPO_GAIN
from rlgrade.testing.training import preference, rewards

DATA = Path(__file__).parent / "data"
REWARD_NAMES = {"tiny": "probability of an even first answer token (the tiny twin's stand-in reward)",
                "smollm2": "share of sums answered right"}


def assert_dpo_prefers_the_chosen_answers(trainings, model: str) -> None:
    score = preference(trainings("dpo", model), DATA / "dpo_heldout.jsonl")
    assert score.accuracy >= DPO_ACCURACY[model] and score.margin > 0, (
        f"DPO with your sequence_logprob and dpo_loss on {model}: on held-out pairs the trained model prefers the "
        f"chosen answer in {100 * score.accuracy:.0f}% of them (at least {100 * DPO_ACCURACY[model]:.0f}% needed), "
        f"with a mean reward margin of {score.margin:.3g} (above 0 needed)")


def assert_grpo_raises_the_reward(trainings, model: str) -> None:
    before, after = rewards(trainings("grpo", model), DATA / "grpo_heldout.jsonl")
    assert after >= before + GRPO_GAIN[model], (
        f"GRPO with your grpo_advantages, aggregate_token_loss and grpo_loss on {model}: the held-out "
        f"{REWARD_NAMES[model]} went from {before:.2f} (untrained) to {after:.2f}; at least "
        f"{before + GRPO_GAIN[model]:.2f} is needed")


# ---- the DPO task: sequence_logprob, dpo_loss -------------------------------------------------

@pytest.mark.points(2)
def test_tiny_twin_prefers_the_chosen_held_out_answers(trainings):
    """DPO on the tiny twin with your sequence_logprob and dpo_loss: held-out accuracy >= 0.6, margin > 0."""
    assert_dpo_prefers_the_chosen_answers(trainings, "tiny")


@pytest.mark.gpu
@pytest.mark.points(3)
def test_smollm2_prefers_the_chosen_held_out_answers(trainings):
    """DPO on SmolLM2 (on a GPU) with your sequence_logprob and dpo_loss: held-out accuracy >= 0.6, margin > 0."""
    assert_dpo_prefers_the_chosen_answers(trainings, "smollm2")



# ---- the GRPO task: grpo_advantages, aggregate_token_loss, grpo_loss --------------------------

@pytest.mark.points(2)
def test_tiny_twin_learns_the_stand_in_reward(trainings):
    """GRPO on the tiny twin with your functions: the held-out probability of its stand-in reward (an even
    first answer token) rises from 0.5 to at least 0.9."""
    assert_grpo_raises_the_reward(trainings, "tiny")


@pytest.mark.gpu
@pytest.mark.points(3)
def test_smollm2_answers_more_held_out_sums_right(trainings):
    """GRPO on SmolLM2 (on a GPU) with your functions: the held-out mean reward rises above the untrained model's."""
    assert_grpo_raises_the_reward(trainings, "smollm2")

