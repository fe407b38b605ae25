#!/usr/bin/env bash
# The latin recipe from scratch, started from a short warm-up on synthetic 11-digit plates (docs/findings.md, "A
# warm-up on digit plates shortens the CTC plateau"). Run from the repository root, in the venv:
#   bash bench/warmup_start.sh [RUN_MINUTES [key=value ...]]   (default 55 min; the warm-up itself takes ~6 min on
#   2 cores; the key=value overrides go to phase 2, e.g. out_dir=runs/NAME epochs=175)
# Writes runs/ocr_latin_warmup_digits (phase 1) and runs/ocr_latin_warm1 (phase 2, the recipe as
# weights/runs/ocr_latin_scratch1_rule.txt ran it, plus init_from); compare phase 2's
# runs/ocr_latin_warm1/logs/training_history.json with weights/runs/ocr_latin_scratch2_history.json (from scratch):
#   python bench/warmup_compare.py runs/ocr_latin_warm1/logs/training_history.json
set -euo pipefail
cd "$(dirname "$0")/.."
export YOLO_OFFLINE=1
MIN=${1:-55}
# phase 1: the latin model (alphabet, width, layout) on synthetic 11-digit plates only, 14 x 1,600 draws
[ -f runs/ocr_latin_warmup_digits/checkpoints/last.pth ] || python ocr/train.py --config configs/ocr_latin.yaml \
  'train=[{synth: digits, weight: 1.0}]' 'val=[{synth: digits, size: 200}]' samples_per_epoch=1600 epochs=14 \
  out_dir=runs/ocr_latin_warmup_digits seed=38 threads=2
# phase 2: the committed recipe, as the from-scratch run (scratch1) was started, from phase 1's weights
python ocr/train.py --config configs/ocr_latin.yaml init_from=runs/ocr_latin_warmup_digits/checkpoints/last.pth \
  ema_decay=0.998 threads=2 time_limit_min="$MIN" seed=38 out_dir=runs/ocr_latin_warm1 "${@:2}"
