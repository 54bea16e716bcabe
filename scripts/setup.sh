#!/usr/bin/env bash
# Set up a fresh machine for rlgrade: bubblewrap (the sandbox) and a virtualenv in .venv.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# bubblewrap: the grading sandbox; chromium: the tests open HTML reports and slide decks in a
# real browser; latexmk + texlive-latex-base: the book draft (materials/book) builds to PDF
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
if [ -n "$missing" ] || ! command -v latexmk >/dev/null 2>&1; then
    $SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
    echo "installing$missing (apt)..."
    $SUDO apt-get install -y -qq $missing >/dev/null
fi
if ! command -v latexmk >/dev/null 2>&1; then
    echo "installing latexmk and texlive-latex-base (apt, without recommends: the book needs only these)..."
    $SUDO apt-get install -y -qq --no-install-recommends latexmk texlive-latex-base >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "creating .venv..."
    "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
    echo "installing torch (CPU build)..."
    # torch first, pinned: later installs then keep it instead of pulling CUDA wheels
    .venv/bin/pip install -q --disable-pip-version-check "torch==2.13.0"
fi
if ! .venv/bin/python -c "import rlgrade, nbgrader, pytest_timeout" >/dev/null 2>&1; then
    echo "installing rlgrade and its dependencies..."
    .venv/bin/pip install -q --disable-pip-version-check -e ".[dev]"
fi
echo "setup done: $(.venv/bin/python -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__)')"
