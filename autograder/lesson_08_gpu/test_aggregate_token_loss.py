"""The GRPO (grpo_advantages + aggregate_token_loss + grpo_loss) task's tests, graded for ``aggregate_token_loss`` (see tasks.py)."""

import pytest

from autograder.lesson_08_gpu.tasks import test_smollm2_answers_more_held_out_sums_right, test_tiny_twin_learns_the_stand_in_reward  # noqa: F401 - collected here

pytestmark = pytest.mark.question("aggregate_token_loss")
