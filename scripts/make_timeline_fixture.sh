#!/usr/bin/env bash
# Makes Tests/TimelineTests/Fixtures: two snapshots of one tiny training run on copies (fan-in 1,
# 4-6 nodes, 3 leaves, names from the first 8), at step 0 (the run's initialisation, which
# `lens init` with the same seed reproduces) and at step 3000. Over those steps the run's one-step
# accuracy on copies rises from chance to about 0.2 and a layer-1 head comes to put about 0.17 of
# its attention on operand values; TimelineTests check that the timeline's measures see both.
# The run is reproducible up to float rounding (the thread count and the CPU's BLAS kernels).
set -euo pipefail
cd "$(dirname "$0")/.."
LENS=${LENS:-.build/release/lens}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$LENS" init --config tiny --seed 3 --out "$work/t0.h5"
"$LENS" train --config tiny --out "$work/t.h5" --curriculum 3:4-6/1@8 --steps 3000 --lr 3e-3 \
    --checkpoint-every 250 --snapshot-every 1000 --log-every 500 --eval-every 0 --seed 3
cp "$work/t0.h5" Tests/TimelineTests/Fixtures/copies.step0.h5
cp "$work/t.step3000.h5" Tests/TimelineTests/Fixtures/copies.step3000.h5
