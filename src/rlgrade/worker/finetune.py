"""The training loop of the GPU-marked tasks: fine-tune a causal LM with the student's own losses.

It runs where the student's code runs: inside the sandboxed worker when grading (the ``train``
request of :mod:`.server`), and in the student's own kernel from the notebook. So it imports only
the standard library, torch, transformers and safetensors, never the grader. Data arrives as token
ids (the grader tokenizes); to read the answers it samples (GRPO) it gets the tokenizer as JSON.

Tasks and the student functions each one calls:

- ``sft``:  ``sft_loss(logits, input_ids, loss_mask)`` on instruction -> response pairs;
- ``dpo``:  ``sequence_logprob(token_logps, mask)`` and ``dpo_loss(...)`` on preference pairs,
  against a frozen copy of the starting model;
- ``grpo``: ``grpo_advantages(rewards, group_size)`` and ``grpo_loss(...)`` on sampled answers to
  a verifiable task (reward 1 when the first integer of the answer is right).
"""

from __future__ import annotations

import copy
import math
import random
import re
import time
from dataclasses import dataclass, fields
from typing import Callable

import torch
import torch.nn.functional as F

TASK_FUNCTIONS = {
    "sft": ("sft_loss",),
    "dpo": ("sequence_logprob", "dpo_loss"),
    "grpo": ("grpo_advantages", "grpo_loss"),
}


class TaskError(RuntimeError):
    """A student function returned something the loop cannot train with (the message says what)."""


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 30
    batch_size: int = 8
    lr: float = 3e-3
    seed: int = 0
    max_grad_norm: float = 1.0
    beta: float = 0.1
    """DPO's beta; GRPO's KL coefficient is ``kl_coef``."""
    group_size: int = 4
    prompts_per_step: int = 4
    max_new_tokens: int = 6
    temperature: float = 1.0
    updates_per_batch: int = 2
    """GRPO: optimizer steps on each batch of samples (the ratio leaves 1 from the second on)."""
    kl_coef: float = 0.02
    reward: str = "exact_match"
    """GRPO's reward (``REWARDS``): exact match on the first integer of the answer; or, for the tiny twin,
    which never answers a sum right, the stand-in "the first answer token's id is even"."""

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(known)}")
        return cls(**values)


# ---- the model --------------------------------------------------------------------------------

def build_model(spec: dict, device: str = "cpu"):
    """A fresh model from ``spec``: ``{"kind": "tiny", "config": {...LlamaConfig...}, "seed": s}`` (random
    init, seeded) or ``{"kind": "gguf", "dir": ..., "file": ...}`` (SmolLM2 from its GGUF file), then the
    optional ``"init"`` weights (a state dict) on top."""
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM  # noqa: PLC0415 - heavy

    if spec["kind"] == "tiny":
        torch.manual_seed(int(spec.get("seed", 0)))
        model = LlamaForCausalLM(LlamaConfig(**spec["config"]))
    elif spec["kind"] == "gguf":
        model = AutoModelForCausalLM.from_pretrained(spec["dir"], gguf_file=spec["file"], dtype=torch.float32)
    else:
        raise ValueError(f"unknown model kind {spec['kind']!r}")
    if spec.get("init"):
        load_weights(model, spec["init"])
    return model.to(device)


def trained_weights(model) -> dict[str, torch.Tensor]:
    """The parameters, each once (a tied output layer is the embedding), on the CPU."""
    return {name: p.detach().to("cpu").contiguous() for name, p in model.named_parameters()}


def load_weights(model, weights: dict[str, torch.Tensor]) -> None:
    """Load :func:`trained_weights` output; every parameter must be there, with its shape."""
    expected = dict(model.named_parameters())
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ValueError(f"weights do not fit the model: missing {missing[:3]}, unexpected {unexpected[:3]}")
    with torch.no_grad():
        for name, parameter in expected.items():
            value = weights[name]
            if tuple(value.shape) != tuple(parameter.shape):
                raise ValueError(f"weights do not fit the model: {name} has shape {tuple(value.shape)}, "
                                 f"not {tuple(parameter.shape)}")
            parameter.copy_(value.to(parameter.dtype))


# ---- batches ----------------------------------------------------------------------------------

def pad(rows: list[list[int]], pad_id: int, device, *, left: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """([B, L] ids, [B, L] attention). Right padding (tokens first) for training; left padding for
    generation, so that every prompt ends at the same column."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        span = slice(width - len(row), width) if left else slice(0, len(row))
        ids[i, span] = torch.tensor(row, dtype=torch.long)
        attention[i, span] = 1
    return ids.to(device), attention.to(device)


def forward_logits(model, ids: torch.Tensor, attention: torch.Tensor, keep: int = 0) -> torch.Tensor:
    """[B, L, V] logits, or [B, keep, V] for the last ``keep`` positions only (0: all)."""
    # explicit positions: with left padding a row's first real token is position 0, as in generate()
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    return model(input_ids=ids, attention_mask=attention, position_ids=positions, logits_to_keep=keep).logits


def token_logps(model, ids: torch.Tensor, attention: torch.Tensor, last: int = 0) -> torch.Tensor:
    """[B, L-1]: entry t is log p(ids[:, t+1] | ids[:, :t+1]); with ``last``, only the last ``last`` entries.
    Then the output layer runs on those positions only: over SmolLM2's 49k-token vocabulary it is most of the
    work, so GRPO, which scores a few sampled tokens after a long prompt, is several times faster."""
    logits = forward_logits(model, ids, attention, keep=last + 1 if last else 0)[:, :-1].float()
    targets = ids[:, -last:] if last else ids[:, 1:]
    return torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None]).squeeze(-1)


def batches(n: int, batch_size: int, steps: int, seed: int):
    """Index lists for ``steps`` steps: shuffled passes over the data, reshuffled each pass."""
    rng, order = random.Random(seed), []
    for _ in range(steps):
        if len(order) < batch_size:
            fresh = list(range(n))
            rng.shuffle(fresh)
            order += fresh
        yield [order.pop(0) for _ in range(min(batch_size, n))]


# ---- answers and rewards (the grader scores with the same two functions) -----------------------

FIRST_INTEGER = re.compile(r"-?\d+")


def extract_answer(text: str) -> str | None:
    """The first integer in a response ("7", "It is 7." and "7 apples" all answer 7)."""
    match = FIRST_INTEGER.search(text)
    return match.group(0).lstrip("+") if match else None


def exact_match_reward(text: str, answer: str) -> float:
    got = extract_answer(text)
    return 1.0 if got is not None and int(got) == int(answer) else 0.0


def completion_mask(completions: torch.Tensor, eos_id: int) -> torch.Tensor:
    """[B, N] 1 for each generated token up to and including the first end-of-sequence token."""
    is_eos = completions == eos_id
    after_eos = (is_eos.cumsum(-1) - is_eos.long()) > 0
    return (~after_eos).long()


# ---- checking what the student's functions return -----------------------------------------------

def scalar_loss(value, fn: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.dim() != 0:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise TaskError(f"{fn} returned {shape}; the training loop needs a 0-dim tensor (one number)")
    if not value.requires_grad:
        raise TaskError(f"{fn} returned a loss with no gradient: it must stay differentiable (no .item(), "
                        "no .detach(), no torch.no_grad())")
    if not torch.isfinite(value):
        raise TaskError(f"{fn} returned {value.item()} (not finite)")
    return value


def vector(value, fn: str, size: int, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or tuple(value.shape) != (size,):
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise TaskError(f"{fn} returned {what} of shape {shape}; expected ({size},)")
    return value


# ---- the three loops --------------------------------------------------------------------------

@dataclass
class Run:
    """What a training run needs besides the student's functions."""

    model: object
    data: list[dict]
    config: TrainConfig
    pad_id: int
    eos_id: int
    decode: Callable[[list[int]], str] | None = None
    progress: Callable[[int, int, dict], None] | None = None

    @property
    def device(self):
        return next(self.model.parameters()).device


def train(task: str, functions: dict, run: Run) -> list[dict]:
    """Train ``run.model`` in place with the student's ``functions``; return the per-step log."""
    missing = [fn for fn in TASK_FUNCTIONS[task] if not callable(functions.get(fn))]
    if missing:
        raise TaskError(f"the {task} task needs your function(s) {', '.join(missing)}: define them first")
    torch.manual_seed(run.config.seed)
    loop = {"sft": sft_steps, "dpo": dpo_steps, "grpo": grpo_steps}[task]
    optimizer = torch.optim.AdamW(run.model.parameters(), lr=run.config.lr, weight_decay=0.0)
    log = []
    run.model.train()
    for entry in loop(functions, run, optimizer):
        log.append(entry)
        if run.progress is not None:
            run.progress(len(log), run.config.steps, entry)
    run.model.eval()
    return log


def optimizer_step(run: Run, optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.config.max_grad_norm)
    optimizer.step()


def sft_steps(functions: dict, run: Run, optimizer):
    """Next-token cross-entropy on the response tokens, computed by the student's ``sft_loss``."""
    for step, picked in enumerate(batches(len(run.data), run.config.batch_size, run.config.steps, run.config.seed)):
        started = time.perf_counter()
        rows = [run.data[i] for i in picked]
        ids, attention = pad([r["input_ids"] for r in rows], run.pad_id, run.device)
        loss_mask, _ = pad([r["loss_mask"] for r in rows], 0, run.device)
        logits = forward_logits(run.model, ids, attention)
        loss = scalar_loss(functions["sft_loss"](logits, ids, loss_mask), "sft_loss")
        optimizer_step(run, optimizer, loss)
        seconds = time.perf_counter() - started
        yield {"step": step + 1, "loss": loss.item(), "tokens_per_s": int(attention.sum()) / seconds}


def response_batch(rows: list[dict], key: str, pad_id: int, device):
    """Prompt + response sequences and the [B, L-1] mask of the response tokens among the targets."""
    sequences = [r["prompt"] + r[key] for r in rows]
    ids, attention = pad(sequences, pad_id, device)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        mask[i, len(r["prompt"]): len(r["prompt"]) + len(r[key])] = 1
    return ids, attention, mask[:, 1:]


def dpo_steps(functions: dict, run: Run, optimizer):
    """The student's ``sequence_logprob`` and ``dpo_loss`` against a frozen copy of the starting model."""
    reference = frozen_copy(run.model)
    seq_logprob, dpo = functions["sequence_logprob"], functions["dpo_loss"]
    for step, picked in enumerate(batches(len(run.data), run.config.batch_size, run.config.steps, run.config.seed)):
        started = time.perf_counter()
        rows, n = [run.data[i] for i in picked], len(picked)
        chosen, rejected = (response_batch(rows, key, run.pad_id, run.device) for key in ("chosen", "rejected"))
        pi = [vector(seq_logprob(token_logps(run.model, ids, att), mask.to(torch.float32)), "sequence_logprob", n,
                     "sequence log-probs") for ids, att, mask in (chosen, rejected)]
        with torch.no_grad():
            ref = [seq_logprob(token_logps(reference, ids, att), mask.to(torch.float32))
                   for ids, att, mask in (chosen, rejected)]
        out = dpo(pi[0], pi[1], ref[0], ref[1], beta=run.config.beta)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise TaskError("dpo_loss must return (losses, chosen_rewards, rejected_rewards)")
        losses, chosen_rewards, rejected_rewards = (vector(v, "dpo_loss", n, what)
                                                    for v, what in zip(out, ("losses", "chosen_rewards",
                                                                             "rejected_rewards")))
        loss = scalar_loss(losses.mean(), "dpo_loss")
        optimizer_step(run, optimizer, loss)
        seconds = time.perf_counter() - started
        tokens = int(chosen[1].sum() + rejected[1].sum())
        yield {"step": step + 1, "loss": loss.item(),
               "accuracy": (chosen_rewards > rejected_rewards).float().mean().item(),
               "margin": (chosen_rewards - rejected_rewards).mean().item(), "tokens_per_s": tokens / seconds}


def frozen_copy(model):
    reference = copy.deepcopy(model).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    return reference


@torch.no_grad()
def sample(model, prompts: list[list[int]], run: Run, *, greedy: bool = False):
    """(prompt+completion ids, attention, [B, N] completion, [B, N] completion mask)."""
    ids, attention = pad(prompts, run.pad_id, run.device, left=True)
    settings = {"do_sample": False} if greedy else {"do_sample": True, "temperature": run.config.temperature,
                                                    "top_k": 0, "top_p": 1.0}
    out = model.generate(input_ids=ids, attention_mask=attention, max_new_tokens=run.config.max_new_tokens,
                         min_new_tokens=1, pad_token_id=run.pad_id, eos_token_id=run.eos_id, **settings)
    completion = out[:, ids.shape[1]:]
    mask = completion_mask(completion, run.eos_id)
    return out, torch.cat([attention, mask], dim=1), completion, mask


def completion_logps(model, ids: torch.Tensor, attention: torch.Tensor, n_new: int) -> torch.Tensor:
    """[B, N] log-probs of the N generated tokens."""
    return token_logps(model, ids, attention, last=n_new)


def rewards_of(completion: torch.Tensor, mask: torch.Tensor, answers: list[str], decode,
               kind: str = "exact_match") -> torch.Tensor:
    """[B] rewards of the sampled completions (``TrainConfig.reward``)."""
    if kind == "even_first_token":
        return even_first_token_reward(completion)
    texts = [decode(row[m.bool()].tolist()) for row, m in zip(completion.cpu(), mask.cpu())]
    return torch.tensor([exact_match_reward(t, a) for t, a in zip(texts, answers)], dtype=torch.float32)


def even_first_token_reward(completion: torch.Tensor) -> torch.Tensor:
    """1 where the first generated token's id is even. The tiny twin's stand-in for exact match: a
    random twin earns it half the time, so its groups differ and GRPO has something to learn from."""
    return (completion[:, 0] % 2 == 0).float().cpu()


REWARDS = ("exact_match", "even_first_token")


def grpo_steps(functions: dict, run: Run, optimizer):
    """Sample a group per prompt, score it, and update with the student's advantages and loss."""
    if run.config.reward not in REWARDS:
        raise ValueError(f"unknown reward {run.config.reward!r}; known: {', '.join(REWARDS)}")
    if run.decode is None and run.config.reward == "exact_match":
        raise ValueError("the grpo task needs a decode function (the tokenizer)")
    reference = frozen_copy(run.model)
    cfg = run.config
    for step, picked in enumerate(batches(len(run.data), cfg.prompts_per_step, cfg.steps, cfg.seed)):
        started = time.perf_counter()
        rows = [run.data[i] for i in picked for _ in range(cfg.group_size)]
        run.model.eval()
        ids, attention, completion, mask = sample(run.model, [r["prompt"] for r in rows], run)
        run.model.train()
        rewards = rewards_of(completion, mask, [r["answer"] for r in rows], run.decode, cfg.reward)
        advantages = vector(functions["grpo_advantages"](rewards, cfg.group_size), "grpo_advantages", len(rows),
                            "advantages").to(run.device).float()
        n_new, fmask = completion.shape[1], mask.to(torch.float32)
        with torch.no_grad():
            logp_old = completion_logps(run.model, ids, attention, n_new)
            logp_ref = completion_logps(reference, ids, attention, n_new)
        for _ in range(cfg.updates_per_batch):
            logp = completion_logps(run.model, ids, attention, n_new)
            loss = scalar_loss(functions["grpo_loss"](logp, logp_old, logp_ref, advantages.detach(), fmask,
                                                      beta=cfg.kl_coef), "grpo_loss")
            optimizer_step(run, optimizer, loss)
        delta = (logp_ref - logp_old)
        k3 = ((torch.exp(delta) - 1 - delta) * fmask).sum() / fmask.sum().clamp(min=1)
        seconds = time.perf_counter() - started
        yield {"step": step + 1, "loss": loss.item(), "reward": rewards.mean().item(), "kl": k3.item(),
               "tokens_per_s": int(attention.sum()) / seconds}


def is_finite_log(log: list[dict]) -> bool:
    return all(math.isfinite(v) for entry in log for v in entry.values())
