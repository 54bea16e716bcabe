"""The GPU-marked tasks' hidden tests: train once, measure with the grader's own code.

A task's training loop runs where the submission's code runs (the ``train`` op of the sandboxed
worker), with the student's functions; what comes back is a per-step log and the trained weights.
The grade is never read from that log: the grader loads the weights into its own copy of the model
and measures it on the held-out data that lives with the hidden tests (:mod:`rlgrade.finetune`).

One run per (task, model) and submission, shared by every test that inspects it (the ``trainings``
fixture of :mod:`rlgrade.testing.plugin` is session-scoped, and a session grades one submission):
a tiny-twin run takes a minute on a CPU, a SmolLM2 run minutes on a GPU. A run that fails is not
retried: each test that asks for it fails with the same message.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

from rlgrade.testing.student import Student, StudentError

SECONDS = {"tiny": 600.0, "smollm2": 1200.0}
"""How long one training run may take in the worker, per model."""


@dataclass(frozen=True)
class Trained:
    """A finished run: its log (the student's side) and weights (measured on ours)."""

    task: str
    model: str
    log: list[dict]
    weights: dict

    @property
    def config(self):
        from rlgrade.finetune import SETTINGS  # noqa: PLC0415 - transformers: only the GPU tasks pay for it

        return SETTINGS[(self.task, self.model)]

    def trained_model(self):
        """The grader's own model of this kind with the trained weights loaded."""
        from rlgrade.worker import finetune as loop  # noqa: PLC0415

        model = untrained(self.model)
        loop.load_weights(model, self.weights)
        return model


class Trainings:
    """``trainings("sft", "tiny")``: the submission's run of a task on a model, trained on first use."""

    def __init__(self, student: Student):
        self._student = student
        self._runs: dict[tuple[str, str], Trained | str] = {}

    def __call__(self, task: str, model: str) -> Trained:
        key = (task, model)
        if key not in self._runs:
            try:
                log, weights = self._student.train(task, train_request(task, model), seconds=SECONDS[model])
                self._runs[key] = Trained(task, model, log, weights)
            except StudentError as exc:
                self._runs[key] = str(exc)
        run = self._runs[key]
        if isinstance(run, str):
            raise StudentError(f"training the {task} task on {model} failed: {run}")
        return run


def train_request(task: str, model: str) -> dict:
    """What the worker's ``train`` op needs: the model, the task's training split (token ids), the
    calibrated settings, the special tokens, the tokenizer when the loop decodes (GRPO's rewards),
    and whether to use CUDA (SmolLM2 only: the tiny twin is a CPU model)."""
    from rlgrade import finetune as ft  # noqa: PLC0415

    return {"model": ft.model_spec(model), "data": ft.encode(task, ft.train_rows(task)),
            "config": dataclasses.asdict(ft.SETTINGS[(task, model)]), **ft.special_ids(),
            "tokenizer": ft.tokenizer_json() if task == "grpo" else None, "cuda": model == "smollm2"}


def untrained(model: str):
    """A fresh copy of the starting model, on CUDA when it is SmolLM2 and there is one."""
    import torch  # noqa: PLC0415

    from rlgrade import finetune as ft  # noqa: PLC0415
    from rlgrade.worker import finetune as loop  # noqa: PLC0415

    device = "cuda" if model == "smollm2" and torch.cuda.is_available() else "cpu"
    built = loop.build_model(ft.model_spec(model), device)
    built.eval()
    return built


def held_out(path: Path) -> list[dict]:
    from rlgrade.finetune import read_jsonl  # noqa: PLC0415

    return read_jsonl(path)


# ---- what the grader measures -----------------------------------------------------------------

@functools.cache
def untrained_loss(model: str, path: Path) -> float:
    """The starting model's held-out SFT loss: the same for every submission, so measured once."""
    from rlgrade.finetune import heldout_loss  # noqa: PLC0415

    return heldout_loss(untrained(model), held_out(path))


def sft_losses(run: Trained, path: Path) -> tuple[float, float]:
    """(before, after): the held-out SFT loss of the starting and of the trained model."""
    from rlgrade.finetune import heldout_loss  # noqa: PLC0415

    return untrained_loss(run.model, path), heldout_loss(run.trained_model(), held_out(path))


def preference(run: Trained, path: Path):
    """Held-out DPO preference accuracy and mean implicit-reward margin of the trained model
    against the starting model (the reference DPO trained against), with the task's beta."""
    from rlgrade.finetune import preference_score  # noqa: PLC0415

    return preference_score(run.trained_model(), untrained(run.model), held_out(path), run.config.beta)


@functools.cache
def untrained_reward(model: str, path: Path, max_new_tokens: int) -> float:
    """The starting model's held-out GRPO mean reward (greedy answers): measured once."""
    from rlgrade.finetune import mean_reward  # noqa: PLC0415

    return mean_reward(untrained(model), held_out(path), max_new_tokens)


def rewards(run: Trained, path: Path) -> tuple[float, float]:
    """(before, after): the held-out mean reward of the starting and of the trained model."""
    from rlgrade.finetune import mean_reward  # noqa: PLC0415

    tokens = run.config.max_new_tokens
    return untrained_reward(run.model, path, tokens), mean_reward(run.trained_model(), held_out(path), tokens)
