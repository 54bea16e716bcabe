"""The DPO task, as graded for ``dpo_loss``: DPO with the student's ``sequence_logprob`` and ``dpo_loss``
against a frozen copy of the starting model; graded by preference accuracy and reward margin on held-out pairs.

One run per model, shared with the tests of the other function (the ``trainings`` fixture); SmolLM2 only
where the grader has CUDA (``gpu``: skipped, "needs GPU", elsewhere).
"""

import pytest

from autograder.lesson_08_gpu.tasks import assert_dpo_prefers_the_chosen_answers

pytestmark = pytest.mark.question("dpo_loss")


@pytest.mark.points(2)
def test_tiny_twin_prefers_the_chosen_held_out_answers(trainings):
    """DPO on the tiny twin with your sequence_logprob and dpo_loss: held-out accuracy >= 0.6, margin > 0."""
    assert_dpo_prefers_the_chosen_answers(trainings, "tiny")


@pytest.mark.gpu
@pytest.mark.points(3)
def test_smollm2_prefers_the_chosen_held_out_answers(trainings):
    """DPO on SmolLM2 (on a GPU) with your sequence_logprob and dpo_loss: held-out accuracy >= 0.6, margin > 0."""
    assert_dpo_prefers_the_chosen_answers(trainings, "smollm2")
