"""What the DPO and GRPO tasks must reach on held-out data, per model (stated in
source/lesson_08/gpu_tasks.ipynb).

DPO, calibrated on the reference: the tiny twin reaches accuracy 0.78 and margin 4.7; chosen and
rejected swapped give 0.22 and -7.3 (tests/test_finetune.py).
GRPO on the tiny twin, which never answers a sum right, learns a stand-in reward: "the first answer token's id
is even" (a random twin earns it half the time). Its held-out probability goes 0.50 -> 1.00 with the reference,
0.50 -> 0.005 with the advantages negated, 0.50 -> 0.78 with every advantage 1 (likelihood of whatever was sampled).
PROVISIONAL: the SmolLM2 numbers (GRPO gain, DPO) are not calibrated: SmolLM2 has had no GPU run yet.
"""

DPO_ACCURACY = {"tiny": 0.6, "smollm2": 0.6}
"""Share of held-out pairs whose implicit reward prefers the chosen answer (the mean margin must also be > 0)."""
GRPO_GAIN = {"tiny": 0.4, "smollm2": 0.05}
"""The held-out mean reward (share of the 20 problems answered exactly right, greedy) must exceed the untrained
model's by at least this much: for SmolLM2 the share of the 20 held-out sums answered right, greedy (0.05 is one
more right); for the tiny twin the probability of an even first token (0.4: from 0.5 to at least 0.9)."""
