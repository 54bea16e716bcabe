"""The DPO (sequence_logprob + dpo_loss) task's tests, graded for ``sequence_logprob`` (see tasks.py)."""

import pytest

from autograder.lesson_08_gpu.tasks import test_tiny_twin_prefers_the_chosen_held_out_answers, test_smollm2_prefers_the_chosen_held_out_answers  # noqa: F401 - collected here

pytestmark = pytest.mark.question("sequence_logprob")
