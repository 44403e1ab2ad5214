#!/usr/bin/env bash
# The README's main job: set up, build the tiny demo models, and run workflows/text-to-image.json on the local
# engine. The demo models have random weights: the images are noise; they prove the installation, not the art.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/loomware models init-demo
# The example names FLUX.1 Dev (runware:101@1) for the cloud; point it at the demo SD 1.5 checkpoint instead.
.venv/bin/loomware run workflows/text-to-image.json --backend local --out output/demo \
  --set model.model=loomware:sd15-demo@1 --set model.architecture=sd1.5 \
  --set infer.width=128 --set infer.height=128 --set infer.steps=20 "$@"
