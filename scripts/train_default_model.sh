#!/usr/bin/env bash
# Reproduce the default model shipped in src/smoothseg/default_model (`make default-model`).
#
# Training data: the phantom generator only — a phantom cohort (`smoothseg phantom`, CASES cases,
# seed SEED) split 9 train / 1 val / 2 test, plus new domain-randomized phantoms every epoch
# (`smoothseg train --synthetic`, issue 15 recipe: random contrast phase, tumor appearance,
# scanner, field of view). Liver stage: the 9 phantoms + SYNTHETIC randomized ones per epoch.
# Tumor stage: SYNTHETIC_TUMOR randomized phantoms per epoch only (`--synthetic-only`): their
# lesions are at least 15 HU from the liver, while the cohort's "isodense" lesions (5-20 HU below
# the liver, under 10-25 HU of noise) are invisible and teach a tumor stage to mark uniform liver
# as tumor (issue 15's false tumor on real livers); validation stays on the cohort's val case.
# No real scan is used in training; in particular none of the real-scan
# benchmark cases (LiTS-117, the TotalSegmentator example CT in both sizes, the dcmqi 3-slice CT,
# HCC_009) — the script checks the training manifest for them.
# Settings: scripts/default_model.toml over the cpu-small preset (see its comments).
# Writes OUT/liver, OUT/tumor and OUT/provenance.json (recipe, data use, seconds per step).
# NOT for clinical use. Tiny check: CASES=4 EPOCHS_LIVER=1 EPOCHS_TUMOR=1 SYNTHETIC=1 SYNTHETIC_TUMOR=1 OUT=/tmp/dm
set -euo pipefail
PY=${PY:-.venv/bin/python}
SEED=${SEED:-0}
CASES=${CASES:-12}
SYNTHETIC=${SYNTHETIC:-16}
SYNTHETIC_TUMOR=${SYNTHETIC_TUMOR:-24}
WORK=${WORK:-build/default-model}
OUT=${OUT:-src/smoothseg/default_model}
CONFIG=${CONFIG:-scripts/default_model.toml}
EPOCHS_LIVER=${EPOCHS_LIVER:-40}
EPOCHS_TUMOR=${EPOCHS_TUMOR:-30}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
rm -rf "$WORK"
mkdir -p "$WORK"
declare -A SECONDS_OF
start_all=$(date +%s)

step_start=$(date +%s)
$PY -m smoothseg phantom --out "$WORK/cohort" --cases "$CASES" --seed "$SEED" --size small
$PY -m smoothseg prepare --format pairs --root "$WORK/cohort" --out "$WORK/cache"
$PY -m smoothseg split --manifest "$WORK/cache" --replications 1 --seed "$SEED" \
    --out "$WORK/splits.json"
SECONDS_OF[data]=$(($(date +%s) - step_start))

# Never train on a benchmark case (the cohort is phantoms only; this guards against edits).
$PY - "$WORK/splits.json" <<'CHECK'
import json, re, sys
ids = [c for s in json.load(open(sys.argv[1]))["splits"] for c in s["train"] + s["val"]]
bad = [c for c in ids if re.search(r"lits|volume-117|example_ct|dcmqi|hcc_009", c, re.I)]
if bad:
    sys.exit(f"refusing: real-scan benchmark case(s) in the training data: {bad}")
CHECK

for stage in liver tumor; do
    if [ "$stage" = liver ]; then
        epochs=$EPOCHS_LIVER; synthetic=(--synthetic "$SYNTHETIC")
    else
        epochs=$EPOCHS_TUMOR; synthetic=(--synthetic "$SYNTHETIC_TUMOR" --synthetic-only)
    fi
    step_start=$(date +%s)
    $PY -m smoothseg train "$stage" --data "$WORK/cache" --split "$WORK/splits.json" \
        --out "$WORK/run-$stage" --preset cpu-small --config "$CONFIG" \
        --max-epochs "$epochs" --seed "$SEED" "${synthetic[@]}" \
        --device cpu --no-progress --overwrite
    SECONDS_OF[$stage]=$(($(date +%s) - step_start))
done

mkdir -p "$OUT"
for stage in liver tumor; do
    rm -rf "${OUT:?}/$stage"
    cp -r "$WORK/run-$stage/bundle" "$OUT/$stage"
done
total=$(($(date +%s) - start_all))
$PY - "$OUT/provenance.json" "$WORK" <<EOF
import json, os, platform, sys
out, work = sys.argv[1], sys.argv[2]
runs = {s: json.load(open(f"{work}/run-{s}/run.json")) for s in ("liver", "tumor")}
config = {s: json.load(open(f"{work}/run-{s}/config.json")) for s in ("liver", "tumor")}
doc = {
    "trained_on": (
        "synthetic data only: liver stage $CASES phantoms (smoothseg phantom --seed $SEED "
        "--size small; the split's train cases) + $SYNTHETIC new domain-randomized phantoms per epoch "
        "(smoothseg train --synthetic); tumor stage $SYNTHETIC_TUMOR new domain-randomized "
        "phantoms per epoch only (--synthetic-only; validated on the cohort's val case)"
    ),
    "disclaimer": (
        "Default model trained on SYNTHETIC phantom data only - a demonstration, NOT FOR "
        "CLINICAL USE. Train your own model for real scans (docs/predict.md)."
    ),
    "command": (
        "make default-model  # = SEED=$SEED CASES=$CASES SYNTHETIC=$SYNTHETIC "
        "SYNTHETIC_TUMOR=$SYNTHETIC_TUMOR EPOCHS_LIVER=$EPOCHS_LIVER EPOCHS_TUMOR=$EPOCHS_TUMOR bash scripts/train_default_model.sh"
    ),
    "seed": $SEED,
    "preset": "cpu-small",
    "config": "$CONFIG",
    "cases": $CASES,
    "synthetic_per_epoch": {"liver": $SYNTHETIC, "tumor": $SYNTHETIC_TUMOR},
    "tumor_synthetic_only": True,
    "epochs": {"liver": $EPOCHS_LIVER, "tumor": $EPOCHS_TUMOR},
    "model": config["liver"]["model"]["name"],
    "spacing_mm": {s: config[s]["preprocess"]["target_spacing_mm"] for s in config},
    "data_use": {
        "training": {s: runs[s]["train"] for s in runs},
        "validation": {s: runs[s]["val"] for s in runs},
        "synthetic": {s: runs[s].get("synthetic") for s in runs},
        "never_in_training": [
            "LiTS-117", "TotalSegmentator example_ct_sm.nii.gz and example_ct.nii.gz",
            "dcmqi 3-slice CT", "HCC_009", "every other scan in ../shared/data",
        ],
    },
    "seconds": {
        "data": ${SECONDS_OF[data]}, "liver": ${SECONDS_OF[liver]},
        "tumor": ${SECONDS_OF[tumor]}, "total": $total,
    },
    "machine": {
        "cpus": os.cpu_count(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "python": platform.python_version(),
    },
}
with open(out, "w", encoding="utf-8") as fh:
    json.dump(doc, fh, indent=2)
    fh.write("\n")
EOF
echo "default model written to $OUT in ${total} s (liver ${SECONDS_OF[liver]} s, tumor ${SECONDS_OF[tumor]} s)"
