"""Where a course's files live, and which assignments it has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT_ID = re.compile(r"^lesson_\d{2}(_gpu)?$")
PROBLEM_SET = "problem_set.ipynb"
GPU_TASKS = "gpu_tasks.ipynb"
GPU_SUFFIX = "_gpu"
"""``lesson_XX_gpu`` is lesson XX's GPU-marked tasks: ``source/lesson_XX/gpu_tasks.ipynb`` beside the
lesson's problem set, with its own hidden tests (``autograder/lesson_XX_gpu/``) and reference
(``solutions/lesson_XX_gpu.py``), graded apart because it fine-tunes a model."""


@dataclass(frozen=True)
class Course:
    """A course checkout: ``source/``, ``release/``, ``solutions/``, ``autograder/``."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> "Course":
        """The nearest directory at or above ``start`` (default: cwd) that has ``source/``."""
        start = Path(start or Path.cwd()).resolve()
        for directory in (start, *start.parents):
            if (directory / "source").is_dir():
                return cls(directory)
        raise FileNotFoundError(f"no course found at or above {start} (a course has a source/ directory)")

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    def assignments(self) -> list[str]:
        """Assignment ids: ``lesson_XX`` for every ``source/lesson_XX/problem_set.ipynb``, ``lesson_XX_gpu``
        for every ``source/lesson_XX/gpu_tasks.ipynb``."""
        found = [p.parent.name for p in self.source.glob(f"lesson_*/{PROBLEM_SET}")]
        found += [p.parent.name + GPU_SUFFIX for p in self.source.glob(f"lesson_*/{GPU_TASKS}")]
        return sorted(a for a in found if ASSIGNMENT_ID.match(a))

    @staticmethod
    def notebook_name(assignment: str) -> str:
        """The file name of an assignment's notebook, the same in source/, release/ and a submission
        folder: ``gpu_tasks.ipynb`` for ``lesson_XX_gpu``, ``problem_set.ipynb`` otherwise."""
        return GPU_TASKS if assignment.endswith(GPU_SUFFIX) else PROBLEM_SET

    @staticmethod
    def lesson_of(assignment: str) -> str:
        """The lesson folder an assignment's notebook lives in: ``lesson_08_gpu`` -> ``lesson_08``."""
        return assignment.removesuffix(GPU_SUFFIX)

    def require(self, assignment: str) -> str:
        if assignment not in self.assignments():
            known = ", ".join(self.assignments()) or "none"
            raise ValueError(f"assignment={assignment!r} is not in {self.source} (known: {known})")
        return assignment

    def source_notebook(self, assignment: str) -> Path:
        return self.source / self.lesson_of(assignment) / self.notebook_name(assignment)

    def release_notebook(self, assignment: str) -> Path:
        return self.release_dir / self.lesson_of(assignment) / self.notebook_name(assignment)

    def solution_module(self, assignment: str) -> Path:
        return self.solutions / f"{assignment}.py"

    def tests_dir(self, assignment: str) -> Path:
        return self.autograder / assignment

    def hidden_test_files(self, assignment: str) -> list[Path]:
        """The assignment's hidden-test sources (tests, strategies, variants), bytecode caches aside."""
        return sorted(p for p in self.tests_dir(assignment).rglob("*.py") if "__pycache__" not in p.parts)

    def secrets(self) -> list[Path]:
        """What a submission must never read."""
        return [self.source, self.solutions, self.autograder]
