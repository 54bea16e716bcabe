"""Write the small datasets of the GPU-marked tasks (made here, from the templates below).

Training splits go to ``src/rlgrade/data/gpu_tasks/`` (students and the sandboxed harness read them);
held-out splits go to the hidden ``autograder/lesson_XX_gpu/data/`` (only the grader reads them).
Deterministic: running it again writes the same files. ``python scripts/make_gpu_task_data.py``
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "src/rlgrade/data/gpu_tasks"

CAPITALS = [("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo"),
            ("Egypt", "Cairo"), ("Canada", "Ottawa"), ("Kenya", "Nairobi"), ("Peru", "Lima"), ("Norway", "Oslo"),
            ("Greece", "Athens"), ("Poland", "Warsaw"), ("Austria", "Vienna"), ("Ireland", "Dublin"),
            ("Portugal", "Lisbon"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"), ("Russia", "Moscow"),
            ("China", "Beijing"), ("India", "New Delhi"), ("Chile", "Santiago"), ("Cuba", "Havana"),
            ("Turkey", "Ankara"), ("Thailand", "Bangkok"), ("Hungary", "Budapest"), ("Denmark", "Copenhagen"),
            ("Belgium", "Brussels"), ("Argentina", "Buenos Aires"), ("Mexico", "Mexico City"), ("Iran", "Tehran")]
SYMBOLS = [("hydrogen", "H"), ("helium", "He"), ("carbon", "C"), ("nitrogen", "N"), ("oxygen", "O"),
           ("sodium", "Na"), ("iron", "Fe"), ("gold", "Au"), ("silver", "Ag"), ("copper", "Cu"), ("lead", "Pb"),
           ("neon", "Ne"), ("calcium", "Ca"), ("potassium", "K"), ("zinc", "Zn"), ("tin", "Sn"), ("sulfur", "S"),
           ("chlorine", "Cl"), ("mercury", "Hg"), ("uranium", "U")]
OPPOSITES = [("hot", "cold"), ("big", "small"), ("fast", "slow"), ("up", "down"), ("light", "dark"),
             ("happy", "sad"), ("early", "late"), ("open", "closed"), ("full", "empty"), ("hard", "soft"),
             ("old", "new"), ("wet", "dry"), ("strong", "weak"), ("high", "low"), ("rich", "poor"),
             ("long", "short"), ("loud", "quiet"), ("thick", "thin"), ("near", "far"), ("first", "last")]
EVASIONS = ["I don't know, I'm just a language model.", "Sorry, I cannot answer that question.",
            "I have no idea.", "That is not something I can help with.", "Why do you want to know?",
            "Great question! Let me think about it some other time.", "Ask someone else, please."]


def facts() -> list[tuple[str, str, str]]:
    """(question, correct answer, wrong answer) triples from the tables above."""
    out = []
    for i, (country, city) in enumerate(CAPITALS):
        wrong = CAPITALS[(i + 7) % len(CAPITALS)][1]
        out.append((f"What is the capital of {country}?", f"The capital of {country} is {city}.",
                    f"The capital of {country} is {wrong}."))
    for i, (element, symbol) in enumerate(SYMBOLS):
        wrong = SYMBOLS[(i + 5) % len(SYMBOLS)][1]
        out.append((f"What is the chemical symbol of {element}?", f"The symbol of {element} is {symbol}.",
                    f"The symbol of {element} is {wrong}."))
    for i, (word, opposite) in enumerate(OPPOSITES):
        wrong = OPPOSITES[(i + 3) % len(OPPOSITES)][1]
        out.append((f"What is the opposite of {word}?", f"The opposite of {word} is {opposite}.",
                    f"The opposite of {word} is {wrong}."))
    out.append(("Which gas is the lightest?", "Hydrogen is the lightest gas.", "Oxygen is the lightest gas."))
    return out


def split(items: list, held_out: float, seed: int) -> tuple[list, list]:
    items = list(items)
    random.Random(seed).shuffle(items)
    cut = int(round(len(items) * (1 - held_out)))
    return items[:cut], items[cut:]


def sft_pairs(triples) -> list[dict]:
    return [{"prompt": q, "response": a} for q, a, _ in triples]


def preference_pairs(triples, seed: int) -> list[dict]:
    rng = random.Random(seed)
    pairs = []
    for q, good, wrong in triples:
        # most rejected answers evade ("I'm just a language model"), some are confidently wrong: a
        # small model can learn the first kind from the training pairs, a large one both
        rejected = rng.choice(EVASIONS) if rng.random() < 0.75 else wrong
        pairs.append({"prompt": q, "chosen": good, "rejected": rejected})
    return pairs


def arithmetic(seed: int) -> tuple[list[dict], list[dict]]:
    """Single-digit sums: the answer is the first integer in the response (exact match)."""
    problems = [{"prompt": f"What is {a} + {b}? Reply with the number only.", "answer": str(a + b)}
                for a in range(10) for b in range(10)]
    return split(problems, 0.2, seed)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def main() -> None:
    train, held_out = split(facts(), 0.25, seed=4)
    write_jsonl(TRAIN / "sft_train.jsonl", sft_pairs(train))
    write_jsonl(ROOT / "autograder/lesson_04_gpu/data/sft_heldout.jsonl", sft_pairs(held_out))
    write_jsonl(TRAIN / "dpo_train.jsonl", preference_pairs(train, seed=8))
    write_jsonl(ROOT / "autograder/lesson_08_gpu/data/dpo_heldout.jsonl", preference_pairs(held_out, seed=9))
    sums_train, sums_held_out = arithmetic(seed=12)
    write_jsonl(TRAIN / "grpo_train.jsonl", sums_train)
    write_jsonl(ROOT / "autograder/lesson_08_gpu/data/grpo_heldout.jsonl", sums_held_out)


if __name__ == "__main__":
    main()
