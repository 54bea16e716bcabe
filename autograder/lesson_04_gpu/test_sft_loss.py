"""The SFT task: fine-tune with the student's ``sft_loss``; graded by the held-out loss drop, measured by the grader.

One run per model (the ``trainings`` fixture), in the submission's sandbox; the tiny twin on the CPU
everywhere, SmolLM2-135M-Instruct only where the grader has CUDA (``gpu``: skipped, "needs GPU", elsewhere).
"""

from pathlib import Path

import pytest

from autograder.lesson_04_gpu.thresholds import SFT_DROP
from rlgrade.testing.training import sft_losses

pytestmark = pytest.mark.question("sft_loss")
HELD_OUT = Path(__file__).parent / "data" / "sft_heldout.jsonl"


def assert_held_out_loss_falls(trainings, model: str) -> None:
    before, after = sft_losses(trainings("sft", model), HELD_OUT)
    drop = 1 - after / before
    assert drop >= SFT_DROP[model], (
        f"SFT with your sft_loss on {model}: the held-out loss went from {before:.3f} to {after:.3f} "
        f"({100 * drop:.0f}% lower); at least {100 * SFT_DROP[model]:.0f}% lower is needed")


@pytest.mark.points(1)
def test_tiny_twin_training_log_is_finite_and_its_loss_falls(trainings):
    """Training the tiny twin with your sft_loss runs every step, with finite losses that fall."""
    log = trainings("sft", "tiny").log
    losses = [entry.get("loss") for entry in log]
    assert all(isinstance(x, float) and x == x and abs(x) != float("inf") for x in losses), \
        f"the training loss is not finite at some step: {losses}"
    assert len(losses) >= 2 and losses[-1] < losses[0], f"the training loss did not fall: {losses[0]} -> {losses[-1]}"


@pytest.mark.points(3)
def test_tiny_twin_held_out_loss_falls(trainings):
    """The tiny twin trained with your sft_loss: its held-out loss falls by at least 40%."""
    assert_held_out_loss_falls(trainings, "tiny")


@pytest.mark.gpu
@pytest.mark.points(6)
def test_smollm2_held_out_loss_falls(trainings):
    """SmolLM2 fine-tuned with your sft_loss (on a GPU): its held-out loss falls by at least 20%."""
    assert_held_out_loss_falls(trainings, "smollm2")
