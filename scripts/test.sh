#!/usr/bin/env bash
# Set up (if needed) and run rlgrade's test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/rlgrade release --check
exec .venv/bin/python -m pytest tests "$@"
