#!/usr/bin/env bash
# Re-run every speed figure the README reports, writing bench/results/ (10 minutes on a 2-core AMX Xeon; bench/all.sh
# runs it after the accuracy figures). Run on an idle machine, in one sitting: speeds on a shared VM drift by the hour.
#   bash bench/speed.sh
#   R=bench/results/sitting_X bash bench/speed.sh   # a sitting of its own, beside the recorded files
# Needs data_gen/digits_300 (bash bench/make_sets.sh holdout draws it).
set -euo pipefail
cd "$(dirname "$0")/.."
R=${R:-bench/results}
mkdir -p "$R"

python bench/detector_speed.py --frames samples/stills/images | tee $R/detector_speed.txt
# every frame through the detector (the work of a frame with a vehicle in view; the bundled clip holds each of its
# frames 5 frames, which the motion gate, the default, rests on), then as the defaults run it
python bench/pipeline_fps.py motion_gate=false --json $R/pipeline_fps_cpu.json
python bench/pipeline_fps.py --json $R/pipeline_fps_cpu_gated.json
python bench/pipeline_fps.py motion_gate=false ocr_compile=true ocr_precision=int8 --json $R/pipeline_fps_cpu_compiled_int8.json
# a still photo end to end: the held-out dash-cam stills (ms per image; the accuracy part of bench/all.sh reads them too)
python -m pipeline.evaluate --labels ../shared/data/dashcam_ro/labels.csv --split-file configs/splits/dashcam_holdout.csv \
    --json $R/pipeline_stills_speed.json
# the same kind of photo over HTTP (python -m pipeline.serve): one request at a time, then 4 clients at once
python bench/serve_latency.py --json $R/serve_latency.json | tee $R/serve_latency.txt
# the ensemble option, and the same as a cascade (ocr_cascade_validation.txt)
python bench/pipeline_fps.py motion_gate=false "ocr_ensemble=[weights/ocr_latin_m16.pth]" \
    --json $R/pipeline_fps_cpu_ocr_pair.json
python bench/pipeline_fps.py motion_gate=false "ocr_ensemble=[weights/ocr_latin_m16.pth]" ocr_ensemble_below=0.9 \
    --json $R/pipeline_fps_cpu_ocr_cascade.json
python bench/ocr_speed.py --weights weights/ocr_digits.pth --data data_gen/digits_300 --json $R/ocr_speed_digits.json \
    | tee $R/ocr_speed_digits.txt
python bench/ocr_speed.py --weights weights/ocr_latin.pth --json $R/ocr_speed_latin_half.json | tee $R/ocr_speed_latin_half.txt
python bench/ocr_speed.py --weights weights/ocr_latin_seed.pth --json $R/ocr_speed_latin_seed.json | tee $R/ocr_speed_latin_seed.txt
# where the seed size's compiled int8 time goes (convolutions vs LSTM), and the MAC rate of its int8 convolutions
python bench/ocr_breakdown.py --weights weights/ocr_digits.pth --json $R/ocr_breakdown_digits.json | tee $R/ocr_breakdown_digits.txt
python bench/train_speed.py --json $R/train_speed.json 2>/dev/null | tee $R/train_speed.txt
