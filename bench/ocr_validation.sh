#!/usr/bin/env bash
# An OCR candidate on every validation set the choice of a shipped model is made on, through its int8 export as the
# pipeline runs it on the CPU; one line of figures (read %; the clip: vehicles read of 50).
#   bash bench/ocr_validation.sh W.pth [NAME]     # W's int8 export must lie beside it as <W stem>_int8.onnx:
#   python ocr/export.py --weights W.pth --format onnx --int8 --out <W stem>_int8.onnx
# Sets: the validation crops (US O/0-folded, Argentinian exact), data_gen/two_row_val, the validation scenes and
# close-ups end to end (colour, greyscale, smeared by motion over 5 and 9 px: bench/dim_stills.py --motion) and the
# validation clip; commands for each in README.md and weights/README.md. About 12 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$1
NAME=${2:-$(basename "$W" .pth)}
D=../shared/data
VAL=configs/splits/real_crops_val.csv
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pct() { python -c "import json,sys; d=json.load(open(sys.argv[1])); print(round(100*d[sys.argv[2]], 2))" "$@"; }

python ocr/evaluate.py --weights "$W" --backend onnx --precision int8 --data $D/us_crops --split-file $VAL \
    --split holdout --json "$T/us.json" > /dev/null
python ocr/evaluate.py --weights "$W" --backend onnx --precision int8 --data $D/ar_crops --split-file $VAL \
    --split holdout --json "$T/ar.json" > /dev/null
python ocr/evaluate.py --weights "$W" --backend onnx --precision int8 --data data_gen/two_row_val \
    --json "$T/tr.json" > /dev/null
line="$NAME us $(pct "$T/us.json" seq_acc_o0) | ar $(pct "$T/ar.json" seq_acc) | 2row $(pct "$T/tr.json" seq_acc)"
for S in scenes_val scenes_close_val scenes_val_u_gray scenes_close_val_u_gray scenes_val_m5 scenes_val_m9; do
    python -m pipeline.evaluate --labels data_gen/$S/labels.csv ocr_weights="$W" --json "$T/$S.json" > /dev/null 2>&1
    line="$line | $S $(pct "$T/$S.json" read_acc)"
done
python -m pipeline.evaluate --video data_gen/clip_val/clip.mp4 --expected data_gen/clip_val/expected.csv \
    ocr_weights="$W" --json "$T/clip.json" > /dev/null 2>&1
line="$line | clip $(python -c "import json; d=json.load(open('$T/clip.json')); print(round(d['read_rate']*d['vehicles']))")/50"
echo "$line"
