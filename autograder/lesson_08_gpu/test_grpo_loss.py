"""The GRPO task, as graded for ``grpo_loss``: GRPO with the student's ``grpo_advantages``,
``aggregate_token_loss`` and ``grpo_loss`` on sums with an exact-match reward; graded by the held-out mean
reward rising above the untrained model's on SmolLM2 (GPU); on the tiny twin, the mechanics of the run.

One run per model, shared with the tests of the other functions (the ``trainings`` fixture); SmolLM2 only
where the grader has CUDA (``gpu``: skipped, "needs GPU", elsewhere). PROVISIONAL thresholds: see thresholds.py.
"""

import pytest

from autograder.lesson_08_gpu.tasks import assert_grpo_raises_the_reward, assert_grpo_run_completes

pytestmark = pytest.mark.question("grpo_loss")


@pytest.mark.points(1)
def test_tiny_twin_grpo_run_completes_with_finite_losses(trainings):
    """GRPO on the tiny twin with your functions runs every step with a finite loss and KL
    (mechanics only: the twin is too small to learn the sums)."""
    assert_grpo_run_completes(trainings)


@pytest.mark.gpu
@pytest.mark.points(3)
def test_smollm2_answers_more_held_out_sums_right(trainings):
    """GRPO on SmolLM2 (on a GPU) with your functions: the held-out mean reward rises above the untrained model's."""
    assert_grpo_raises_the_reward(trainings, "smollm2")
