#!/usr/bin/env bash
# The main job, run by `make demo` (after `make install`):
#   1. `smoothseg demo`: a synthetic abdominal CT cohort (12 phantoms with a clinical table, per the cpu-small config), then
#      the paper's experiment at CPU scale (config cpu-small): 3 replications x (clinical soft
#      labels, liver stage, tumor stage with/without smoothing, multi-class baselines, ablation
#      I-V), the full two-step prediction of the held-out cases, scoring, Tables 2-5 (pooled and per-case, p-values), Figures C1 and D1,
#      sample segmentations and report.md — every number computed by this run;
#   2. the real TCIA HCC-TACE-Seg study in ../shared/data, when present: series choice + predict
#      with the shipped default model and a DICOM SEG output (skip with DEMO_REAL=0).
# Re-running resumes: finished steps are skipped (DEMO_OVERWRITE=1 starts over).
set -euo pipefail
cd "$(dirname "$0")/.."
SMOOTHSEG=".venv/bin/smoothseg"
OUT="${DEMO_OUT:-demo-output}"
SHARED="${SMOOTHSEG_SHARED:-../shared}"
export PYTHONUNBUFFERED=1  # progress lines appear as they happen, also in a log file
START=$(date +%s)
mkdir -p "$OUT"

echo "== 1. The SmoothSegNet experiment at CPU scale on a synthetic cohort (smoothseg demo) =="
FLAGS=()
[ "${DEMO_OVERWRITE:-0}" = "1" ] && FLAGS+=(--overwrite)
"$SMOOTHSEG" demo --out "$OUT" --jobs "${DEMO_JOBS:-2}" ${FLAGS[@]+"${FLAGS[@]}"}
REPORT="$OUT/experiment/report.md"

STUDY="$SHARED/data/hcc-tace-seg/HCC-TACE-Seg/HCC_009"
if [ "${DEMO_REAL:-1}" = "1" ] && [ -d "$STUDY" ]; then
  echo
  echo "== 2. A real TCIA HCC-TACE-Seg study: series choice, then predict with DICOM SEG output =="
  "$SMOOTHSEG" info "$STUDY"
  "$SMOOTHSEG" predict -i "$STUDY" -o "$OUT/HCC_009" --overwrite
else
  echo "(skipping the real-data step: $STUDY is absent or DEMO_REAL=0)"
fi
echo
echo "Done in $(( $(date +%s) - START )) s. Outputs in $OUT/:"
echo "  experiment/report.md         Tables 2-5 (pooled and per-case, p-values), Figures C1 and D1, sample segmentations, the run's scale"
echo "  experiment/tables/           the tables as Markdown, CSV and LaTeX"
echo "  experiment/runs/             per replication: soft labels, training runs, predictions"
echo "  phantom/                     the synthetic cohort (CT, labels, clinical table)"
[ -d "$OUT/HCC_009" ] && echo "  HCC_009/                     the real study's prediction (note: synthetic-data model)"
echo
echo "Report: $REPORT"
exit 0
