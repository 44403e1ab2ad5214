#!/usr/bin/env bash
# Create .venv with Loomware, the local engine and the test tools. Idempotent; the only network used is PyPI.
# torch is pinned to 2.13.0 (the CPU wheel) in the same pip command as the rest: an unpinned torch, direct or
# through a dependency, would pull several GB of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[local,dev]'
