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
import math
import re
from dataclasses import dataclass
from pathlib import Path

from rlgrade.testing.student import Student, StudentError

SECONDS = {"tiny": 600.0, "smollm2": 1200.0}
"""How long one training run may take in the worker, per model."""
MAX_CURVE_POINTS = 200
"""Steps kept of a run's log for its learning curves (the longest run logs 60): a longer log is thinned evenly."""
MAX_RUNS = 12
"""Runs kept per submission: one per task and model (3 tasks on 2 models today)."""
NAME = re.compile(r"[a-z0-9_]{1,40}")
"""What a task's or model's name looks like (they name a stored run; anything else is not one of ours)."""


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

    def curves(self) -> list[dict]:
        """The finished runs' learning curves, for the student's feedback: ``{"task", "model", "log"}``
        each, in a fixed order, the log reduced to :func:`learning_curve` (it comes from the worker)."""
        runs = [run for _, run in sorted(self._runs.items()) if isinstance(run, Trained)]
        return stored_curves([{"task": run.task, "model": run.model, "log": run.log} for run in runs])


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
    from rlgrade import finetune as ft  # noqa: PLC0415
    from rlgrade.worker import finetune as loop  # noqa: PLC0415

    spec = ft.model_spec(model)
    built = loop.build_model(spec, ft.device_for(spec))
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
def untrained_reward(model: str, path: Path) -> float:
    """The starting model's held-out GRPO reward (``rlgrade.finetune.policy_reward``): measured once."""
    from rlgrade.finetune import SETTINGS, policy_reward  # noqa: PLC0415

    return policy_reward(untrained(model), held_out(path), SETTINGS[("grpo", model)])


def rewards(run: Trained, path: Path) -> tuple[float, float]:
    """(before, after): the held-out GRPO reward of the starting and of the trained model (greedy exact
    match for SmolLM2; the tiny twin's stand-in, the probability of an even first token)."""
    from rlgrade.finetune import policy_reward  # noqa: PLC0415

    return untrained_reward(run.model, path), policy_reward(run.trained_model(), held_out(path), run.config)


# ---- what the student sees of a run: its learning curves ----------------------------------------

def stored_curves(runs) -> list[dict]:
    """``runs`` (``[{"task", "model", "log"}]``) with each log reduced to :func:`learning_curve`; a run
    that is not of that shape, or has nothing to plot, is left out. Safe on anything: it is applied
    where the curves leave the grading process and again where a page draws them."""
    if type(runs) not in (list, tuple):
        return []
    kept = []
    for run in runs[:MAX_RUNS]:
        if type(run) is not dict or not all(is_name(run.get(key)) for key in ("task", "model")):
            continue
        curve = learning_curve(run.get("log"))
        if curve:
            kept.append({"task": run["task"], "model": run["model"], "log": curve})
    return kept


def is_name(value) -> bool:
    """Whether ``value`` names a task or model as ours are named (it becomes a figure's title)."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def learning_curve(log) -> list[dict]:
    """The plottable part of a run's per-step log: ``step`` and the curves of
    :data:`rlgrade.finetune.CURVES` (loss, accuracy, margin, reward, KL), as finite floats, ``None``
    where a step's value is missing or not finite (a loss that diverged). The log is the worker's,
    so the submission's: strings, nested junk, steps without a number and keys that are not curves
    are dropped (timings too: ``tokens_per_s`` differs from one regrade to the next), and a long log
    is thinned to :data:`MAX_CURVE_POINTS` entries. Empty when no curve has a single value."""
    from rlgrade.finetune import CURVES  # noqa: PLC0415 - torch: the callers have it loaded already

    if type(log) is not list:
        return []
    stride = max(1, -(-len(log) // MAX_CURVE_POINTS))
    points = [point for point in (curve_point(entry, CURVES) for entry in log[::stride]) if point is not None]
    keys = [key for key in CURVES if any(point[key] is not None for point in points)]
    return [{"step": point["step"], **{key: point[key] for key in keys}} for point in points] if keys else []


def curve_point(entry, keys) -> dict | None:
    """One step of the log as ``{"step": float, key: float | None ...}``; None without a finite step."""
    if type(entry) is not dict:
        return None
    step = finite(entry.get("step"))
    return None if step is None else {"step": step, **{key: finite(entry.get(key)) for key in keys}}


def finite(value) -> float | None:
    """``value`` as a float of six significant digits (plenty for a plot, and small to store), or
    None unless it is a finite int or float (not a bool, a string, a tensor, a list ...)."""
    if type(value) not in (int, float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        return None
    return float(f"{number:.6g}") if math.isfinite(number) else None
