"""Hidden tests run with rlgrade's plugin (``student`` fixture, points, hypothesis profiles).

Run directly against a file with ``pytest autograder/lesson_08 --student path.ipynb``;
``rlgrade grade`` runs them against sandboxed submissions.
"""

pytest_plugins = ["rlgrade.testing.plugin"]
