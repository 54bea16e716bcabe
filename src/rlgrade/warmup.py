"""Lazy set-up done once in the grading pool's forkserver, before any grading process is forked.

Imported by the forkserver (``rlgrade.pool.PRELOAD``). Every grading process is a fork of it, so
what is done here is inherited instead of being redone per submission. Each step below is
something the libraries do lazily on first use, measured at the cost it saves per submission:

- nbformat compiles a JSON-schema validator per notebook minor version (about 0.08 s);
- hypothesis' first ``@given`` run registers the global random generators, with a full
  ``gc.collect()`` on a heap that holds torch (about 0.2 s).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rlgrade.notebook import get_validator, nbformat

NOTEBOOK_MINORS = (4, 5)  # what Jupyter has written since 2016; others compile on demand


def build_notebook_validators() -> None:
    for minor in NOTEBOOK_MINORS:
        get_validator(version=4, version_minor=minor)
        nbformat.validate(nbformat.v4.new_notebook(nbformat_minor=minor))


def run_one_hypothesis_test() -> None:
    @settings(database=None, max_examples=1, derandomize=True)  # no .hypothesis/ folder in the cwd
    @given(st.integers())
    def trivial(_):
        pass

    trivial()


build_notebook_validators()
run_one_hypothesis_test()
