"""Regenerate the bundled lesson-8 sample submissions used by `rlgrade demo`.

Each sample starts from the student notebook in release/ and fills the stubs with the
reference bodies from source/, then plants a realistic bug, a crash, a hang, an attack
or a broken file. Run from the course root: ``python examples/lesson_08/make_samples.py``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from rlgrade.notebook import graded_cells, read_notebook

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "examples" / "lesson_08" / "submissions"
SOURCE = ROOT / "source" / "lesson_08" / "problem_set.ipynb"
RELEASE = ROOT / "release" / "lesson_08" / "problem_set.ipynb"

# (question, text in the reference, replacement): each a mistake students really make
BOB_BUGS = [
    ("ppo_clip_loss", "-torch.minimum(ratio * advantages", "-torch.maximum(ratio * advantages"),
    ("grpo_advantages", "groups.std(dim=1, keepdim=True)", "groups.std(dim=1, keepdim=True, unbiased=False)"),
]
CAROL_BUGS = [
    ("dpo_loss", "(beta * chosen_logratio).detach(), (beta * rejected_logratio).detach()",
     "beta * chosen_logratio, beta * rejected_logratio"),
    ("kto_loss", "kl_ref.detach().clamp(min=0.0)", "kl_ref.detach()"),
    ("sequence_logprob", "total / m.sum(dim=1)", "total / m.shape[1]"),
]
CRASH = "    import ctypes\n    ctypes.string_at(0)  # reads address 0: the worker segfaults\n"
HANG = "    while True:  # waits for a convergence that never comes\n        pass\n"
ATTACK = '''import glob, torch
for path in glob.glob("/*/*/solutions/*.py") + glob.glob("../solutions/*.py") + glob.glob("/proc/*/cwd/solutions/*.py"):
    exec(open(path).read())  # would give the reference away, if it could be seen
torch.allclose = lambda *args, **kwargs: True
torch.isclose = lambda a, b, **kwargs: torch.ones_like(a, dtype=torch.bool)
'''


def reference_bodies() -> dict[str, str]:
    nb = read_notebook(SOURCE)
    return {cell.grade_id: cell.reference_code for cell in graded_cells(nb, SOURCE)}


def filled(bodies: dict[str, str], edits: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The release notebook with every stub replaced (optionally edited) as a student would."""
    nb = copy.deepcopy(read_notebook(RELEASE))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in bodies:
            cell.source = (edits or {}).get(grade_id, bodies[grade_id])
    return nb


def with_bugs(bodies: dict[str, str], bugs) -> dict[str, str]:
    edited = {}
    for question, old, new in bugs:
        source = edited.get(question, bodies[question])
        assert old in source, f"{question}: {old!r} not in the reference any more; update make_samples.py"
        edited[question] = source.replace(old, new)
    return edited


def insert_after_docstring(source: str, code: str) -> str:
    head, _, tail = source.partition('"""')  # the docstring's opening quotes
    doc, _, body = tail.partition('"""\n')
    return head + '"""' + doc + '"""\n' + code + body


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    bodies = reference_bodies()
    nbformat.write(filled(bodies), OUT / "alice.ipynb")
    nbformat.write(filled(bodies, with_bugs(bodies, BOB_BUGS)), OUT / "bob.ipynb")
    carol = with_bugs(bodies, CAROL_BUGS)
    (OUT / "carol.py").write_text("import torch\nimport torch.nn.functional as F\n\n\n"
                                  + "\n\n\n".join(carol.get(q, b) for q, b in bodies.items()) + "\n")
    dave = filled(bodies, {"kl_penalized_rewards": insert_after_docstring(bodies["kl_penalized_rewards"], CRASH)})
    dave.cells.insert(2, nbformat.v4.new_code_cell("import nonexistent_helpers  # a leftover import that fails"))
    nbformat.write(dave, OUT / "dave.ipynb")
    nbformat.write(filled(bodies, {"grpo_loss": insert_after_docstring(bodies["grpo_loss"], HANG)}), OUT / "erin.ipynb")
    text = nbformat.writes(filled(bodies))
    (OUT / "frank.ipynb").write_text(text[: len(text) // 2])  # the upload was cut off
    nbformat.write(read_notebook(RELEASE), OUT / "grace.ipynb")  # submitted without doing anything
    mallory = filled({q: insert_after_docstring(b, "    return torch.zeros(())\n") for q, b in bodies.items()})
    mallory.cells.insert(2, nbformat.v4.new_code_cell(ATTACK))
    nbformat.write(mallory, OUT / "mallory.ipynb")
    print(f"wrote {len(list(OUT.iterdir()))} samples to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
