"""Where a course's files live, and which assignments it has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT_ID = re.compile(r"^lesson_\d{2}$")
PROBLEM_SET = "problem_set.ipynb"


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
        """Assignment ids: ``lesson_XX`` for every ``source/lesson_XX/problem_set.ipynb``."""
        return sorted(p.parent.name for p in self.source.glob(f"lesson_*/{PROBLEM_SET}") if ASSIGNMENT_ID.match(p.parent.name))

    def require(self, assignment: str) -> str:
        if assignment not in self.assignments():
            known = ", ".join(self.assignments()) or "none"
            raise ValueError(f"assignment={assignment!r} is not in {self.source} (known: {known})")
        return assignment

    def source_notebook(self, assignment: str) -> Path:
        return self.source / assignment / PROBLEM_SET

    def release_notebook(self, assignment: str) -> Path:
        return self.release_dir / assignment / PROBLEM_SET

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
