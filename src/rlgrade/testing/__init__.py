"""The toolkit hidden tests are written with (runs in the grader process, never in a release).

- ``student`` fixture (from :mod:`rlgrade.testing.plugin`): call the submission's functions.
- :func:`assert_close`: compare with teaching failure messages.
- :mod:`rlgrade.testing.strategies`: hypothesis strategies for the domain objects.
- :func:`misconception` / :func:`rewrite`: mark known-wrong and independent correct variants.
- :func:`reference_for`: the lesson's reference solutions module.
"""

from rlgrade.testing.autograd import reference_grad
from rlgrade.testing.compare import assert_close, tolerance_for
from rlgrade.testing.student import CallResult, Student, StudentError
from rlgrade.testing.variants import misconception, reference_for, rewrite

__all__ = ["assert_close", "reference_grad", "tolerance_for", "CallResult", "Student", "StudentError", "misconception",
           "reference_for", "rewrite"]
