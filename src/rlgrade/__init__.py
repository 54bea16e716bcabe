"""rlgrade: autograded homework for ML courses — release, sandboxed grading, review."""

__version__ = "0.1.0"

__all__ = ["__version__"]
