"""The DPO and GRPO tasks' checks, shared by the tests of the functions each task trains with.

A task is graded as a whole (the grader cannot tell which of two functions made a run fail), so
each of its functions' questions holds the same checks of the same run, and the task's points are
split between them.
"""

from pathlib import Path

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
