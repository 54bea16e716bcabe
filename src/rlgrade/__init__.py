"""rlgrade: autograded homework for ML courses — release, sandboxed grading, review."""

__version__ = "0.1.0"

# `from rlgrade import check` in a student's notebook. Imported here, after which the name
# `rlgrade.check` is this function, not the module (which imports only the standard library).
from rlgrade.check import check  # noqa: E402

__all__ = ["__version__", "check"]
