#!/usr/bin/env bash
# The main job on the embedded default: run by `make demo` (after `make install`).
# Grows as the pipeline lands; today: a synthetic cohort with previews, then `smoothseg info` on a
# phantom case and on the real shared CT when ../shared/data is present.
set -euo pipefail
cd "$(dirname "$0")/.."
SMOOTHSEG=".venv/bin/smoothseg"
OUT="${DEMO_OUT:-demo-output}"
SHARED="${SMOOTHSEG_SHARED:-../shared}"
mkdir -p "$OUT"

echo "== 1. Synthetic abdominal CT cohort (embedded default data) =="
"$SMOOTHSEG" phantom --out "$OUT/phantom" --cases 6 --seed 0 --preview --overwrite
echo
echo "== 2. What a phantom case holds =="
"$SMOOTHSEG" info "$OUT/phantom/cases/PHANTOM_001/image.nii.gz"
"$SMOOTHSEG" info "$OUT/phantom/cases/PHANTOM_001/label.nii.gz"

if [ -d "$SHARED/data/hcc-tace-seg/HCC-TACE-Seg/HCC_009" ]; then
  echo
  echo "== 3. A real TCIA HCC-TACE-Seg study: which CT series smoothseg picks, and why =="
  "$SMOOTHSEG" info "$SHARED/data/hcc-tace-seg/HCC-TACE-Seg/HCC_009"
else
  echo "(skipping the real-data step: $SHARED/data is absent)"
fi
echo
echo "Demo outputs are in $OUT/ (previews: $OUT/phantom/previews/*.png)"
