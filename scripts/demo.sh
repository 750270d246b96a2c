#!/usr/bin/env bash
# The main job on the embedded default data, run by `make demo` (after `make install`):
#   1. a synthetic abdominal CT cohort (held out: not the seed the default model was trained on),
#   2. two-stage segmentation of every case with the shipped default model,
#   3. scoring against the cohort's ground truth (Dice, HD95, lesion detection, size groups),
#   4. the real TCIA HCC-TACE-Seg study in ../shared/data, when present: series choice + predict
#      with a DICOM SEG output on the chosen series.
set -euo pipefail
cd "$(dirname "$0")/.."
SMOOTHSEG=".venv/bin/smoothseg"
OUT="${DEMO_OUT:-demo-output}"
SHARED="${SMOOTHSEG_SHARED:-../shared}"
CASES="${DEMO_CASES:-4}"
mkdir -p "$OUT"

echo "== 1. Synthetic abdominal CT cohort ($CASES cases, seed 1000) =="
"$SMOOTHSEG" phantom --out "$OUT/cohort" --cases "$CASES" --seed 1000 --preview --overwrite
"$SMOOTHSEG" info "$OUT/cohort/cases/PHANTOM_001/image.nii.gz"

echo
echo "== 2. Segment every case with the default model (liver stage, then tumor stage) =="
"$SMOOTHSEG" predict -i "$OUT/cohort/manifest.csv" -o "$OUT/predictions" --overwrite

echo
echo "== 3. Score the predictions against the ground truth =="
"$SMOOTHSEG" evaluate --pred "$OUT/predictions" --ref "$OUT/cohort" --out "$OUT/evaluation" \
  --overwrite

STUDY="$SHARED/data/hcc-tace-seg/HCC-TACE-Seg/HCC_009"
if [ -d "$STUDY" ]; then
  echo
  echo "== 4. A real TCIA HCC-TACE-Seg study: series choice, then predict with DICOM SEG output =="
  "$SMOOTHSEG" info "$STUDY"
  "$SMOOTHSEG" predict -i "$STUDY" -o "$OUT/HCC_009" --overwrite
else
  echo "(skipping the real-data step: $STUDY is absent)"
fi
echo
echo "Done. Outputs in $OUT/:"
echo "  cohort/previews/*.png        the synthetic CTs with their labels"
echo "  predictions/<case>/          labels.nii.gz, statistics.json, preview.png per case"
echo "  evaluation/summary.md        Dice, IoU, HD95, ASSD, lesion detection by size group"
[ -d "$STUDY" ] && echo "  HCC_009/                     the real study's prediction (note: synthetic-data model)"
exit 0
