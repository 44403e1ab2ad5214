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
log=.venv/install.log
echo "setting up .venv (log: $log) ..." >&2
if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[local,dev]'; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "setup failed; the whole log is in $log" >&2
  exit 1
fi
