#!/usr/bin/env bash
# Reproduce the default model shipped in src/smoothseg/default_model (`make default-model`).
# Synthetic phantom data only: the result is a demonstration, NOT for clinical use.
# scripts/default_model.toml over the cpu-small preset: U-Net, liver stage at 5 mm, tumor stage
# at cpu-small's 6 mm; 12 phantom cases, seed 0, split replication 1 (9 train / 1 val / 2 test).
set -euo pipefail
PY=${PY:-.venv/bin/python}
SEED=${SEED:-0}
CASES=${CASES:-12}
WORK=${WORK:-build/default-model}
OUT=${OUT:-src/smoothseg/default_model}
EPOCHS_LIVER=${EPOCHS_LIVER:-50}
EPOCHS_TUMOR=${EPOCHS_TUMOR:-20}
rm -rf "$WORK"
mkdir -p "$WORK"
$PY -m smoothseg phantom --out "$WORK/cohort" --cases "$CASES" --seed "$SEED" --size small
$PY -m smoothseg prepare --format pairs --root "$WORK/cohort" --out "$WORK/cache"
$PY -m smoothseg split --manifest "$WORK/cache" --replications 1 --seed "$SEED" \
    --out "$WORK/splits.json"
for stage in liver tumor; do
    if [ "$stage" = liver ]; then epochs=$EPOCHS_LIVER; else epochs=$EPOCHS_TUMOR; fi
    $PY -m smoothseg train "$stage" --data "$WORK/cache" --split "$WORK/splits.json" \
        --out "$WORK/run-$stage" --preset cpu-small --config scripts/default_model.toml \
        --max-epochs "$epochs" --seed "$SEED" --device cpu --no-progress --overwrite
    rm -rf "${OUT:?}/$stage"
    mkdir -p "$OUT"
    cp -r "$WORK/run-$stage/bundle" "$OUT/$stage"
done
echo "default model written to $OUT"
