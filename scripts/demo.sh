#!/usr/bin/env bash
# Set up (if needed) and run the main job: release -> validate -> grade the bundled
# lesson-8 sample submissions into a fresh gradebook -> score table and reports in rlgrade-demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/rlgrade demo "$@"
