#!/usr/bin/env bash
# An OCR model on every held-out set, through its int8 export as the pipeline runs it on the CPU; one line of
# figures (read %; the clip: vehicles read of 60). Run only after the choice was made on validation
# (bench/ocr_validation.sh): the held-out sets measure, they never choose.
#   bash bench/ocr_holdout.sh W.pth [NAME]     # W's int8 export beside it as <W stem>_int8.onnx
# Sets: the held-out real crops (US and Argentinian, exact and O/0-folded; smeared by motion over 6 and 9 % of their
# width: bench/motion_blur.py), data_gen/two_row_test, the held-out pasted set, close-ups (colour and greyscale) and
# the pasted set smeared over 5 and 9 px (bench/dim_stills.py --motion) end to end, the held-out dash-cam stills and
# the held-out clip. About 15 minutes on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$1
NAME=${2:-$(basename "$W" .pth)}
D=../shared/data
HOLD=configs/splits/real_crops_holdout.csv
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pct() { python -c "import json,sys; d=json.load(open(sys.argv[1])); print(round(100*d[sys.argv[2]], 2))" "$@"; }

for S in us ar; do
    python ocr/evaluate.py --weights "$W" --backend onnx --precision int8 --data $D/${S}_crops --split-file $HOLD \
        --split holdout --json "$T/$S.json" > /dev/null
done
python ocr/evaluate.py --weights "$W" --backend onnx --precision int8 --data data_gen/two_row_test \
    --json "$T/tr.json" > /dev/null
python bench/motion_blur.py --weights "$W" --split holdout --json "$T/mb.json" > /dev/null
line="$NAME us $(pct "$T/us.json" seq_acc) / $(pct "$T/us.json" seq_acc_o0) | ar $(pct "$T/ar.json" seq_acc) /"
line="$line $(pct "$T/ar.json" seq_acc_o0) | 2row $(pct "$T/tr.json" seq_acc)"
line="$line | crops smeared 6/9 % $(python -c "import json; d=json.load(open('$T/mb.json'))['by_share']; print(round(100*d['0.06'], 1), '/', round(100*d['0.09'], 1))")"
for S in scenes_holdout scenes_close_holdout scenes_holdout_gray scenes_close_holdout_gray scenes_holdout_m5 \
         scenes_holdout_m9; do
    python -m pipeline.evaluate --labels data_gen/$S/labels.csv ocr_weights="$W" --json "$T/$S.json" > /dev/null 2>&1
    line="$line | $S $(pct "$T/$S.json" read_acc)"
done
python -m pipeline.evaluate --labels $D/dashcam_ro/labels.csv --split-file configs/splits/dashcam_holdout.csv \
    ocr_weights="$W" --json "$T/st.json" > /dev/null 2>&1
line="$line | stills $(pct "$T/st.json" read_acc)"
python -m pipeline.evaluate --video data_gen/clip_holdout/clip.mp4 --expected data_gen/clip_holdout/expected.csv \
    ocr_weights="$W" --json "$T/clip.json" > /dev/null 2>&1
line="$line | clip $(python -c "import json; d=json.load(open('$T/clip.json')); print(round(d['read_rate']*d['vehicles']))")/60"
echo "$line"
