"""Known-wrong variants ("misconceptions") and independent correct rewrites of a question.

They live with the hidden material, one module per question
(``autograder/lesson_XX/variants/<question>.py``), never in a release. ``rlgrade validate`` checks that the hidden
tests reject every misconception and accept every rewrite; ``rlgrade review`` uses
misconceptions to name a student's likely bug.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable, Literal

ATTRIBUTE = "__rlgrade_variant__"


@dataclass(frozen=True)
class Variant:
    """One alternative implementation of a question's function."""

    kind: Literal["misconception", "rewrite"]
    question: str
    """The graded function it stands in for."""
    description: str
    """One line: the mistake it models, or how the rewrite differs."""
    name: str = ""
    """Python name of the variant (set when collected)."""


def misconception(question: str, description: str) -> Callable:
    """Mark a function as a known-wrong implementation of ``question``."""
    return _mark("misconception", question, description)


def rewrite(question: str, description: str = "independent correct rewrite") -> Callable:
    """Mark a function as a correct implementation of ``question`` written differently."""
    return _mark("rewrite", question, description)


def _mark(kind, question, description):
    if not description.strip():
        raise ValueError(f"{kind} of {question!r} needs a one-line description")

    def decorate(fn):
        setattr(fn, ATTRIBUTE, Variant(kind, question, description))
        return fn

    return decorate


def collect(module: ModuleType) -> list[tuple[Variant, Callable]]:
    """Every marked function of ``module``, in definition order."""
    found = []
    for name, value in vars(module).items():
        variant = getattr(value, ATTRIBUTE, None)
        if isinstance(variant, Variant) and getattr(value, "__module__", None) == module.__name__:
            found.append((Variant(variant.kind, variant.question, variant.description, name), value))
    return found


def load_module(path: Path, name: str) -> ModuleType:
    """Import a course file (solutions, misconceptions) by path, once per process."""
    path = Path(path).resolve()
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def reference_for(test_file: str | Path) -> ModuleType:
    """The reference solutions of the lesson a hidden-test file belongs to.

    ``autograder/lesson_08/test_x.py`` → ``solutions/lesson_08.py`` (generated from
    ``source/lesson_08/problem_set.ipynb`` by ``rlgrade release``).
    """
    test_file = Path(test_file).resolve()
    lesson_dir = next((p for p in test_file.parents if p.parent.name == "autograder"), None)
    if lesson_dir is None:
        raise ValueError(f"{test_file} is not under autograder/<lesson>/")
    course = lesson_dir.parent.parent
    return load_module(course / "solutions" / f"{lesson_dir.name}.py", f"rlgrade_solutions.{lesson_dir.name}")
