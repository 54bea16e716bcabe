"""The GRPO task, as graded for ``aggregate_token_loss``: GRPO with the student's ``grpo_advantages``,
``aggregate_token_loss`` and ``grpo_loss`` on sums with an exact-match reward; graded by the held-out mean
reward rising above the untrained model's (the tiny twin: its stand-in reward, an even first answer token).

One run per model, shared with the tests of the other functions (the ``trainings`` fixture); SmolLM2 only
where the grader has CUDA (``gpu``: skipped, "needs GPU", elsewhere). PROVISIONAL thresholds: see thresholds.py.
"""

import pytest

from autograder.lesson_08_gpu.tasks import assert_grpo_raises_the_reward

pytestmark = pytest.mark.question("aggregate_token_loss")


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
