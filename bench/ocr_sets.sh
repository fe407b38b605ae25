#!/usr/bin/env bash
# An OCR model on every validation set (the choice of a shipped model is made there) or, after the choice, every
# held-out set (they measure, never choose); through its int8 export as the pipeline runs it on the CPU. Prints one
# line of figures (read %; clips: vehicles read).
#   bash bench/ocr_sets.sh val W.pth [NAME]       # about 12 minutes on 2 CPU cores
#   bash bench/ocr_sets.sh holdout W.pth [NAME]   # about 15 minutes
#   bash bench/ocr_sets.sh fresh W.pth [NAME]     # fresh draws of the validation scenes (bash bench/make_sets.sh fresh),
#                                                 # which no model was chosen on: a check for a winner's curse, ~2-4 min
#   bash bench/ocr_sets.sh val W.pth NAME fp32    # the checkpoint itself in fp32 (PyTorch), as a GPU-less user of
#                                                 # ocr_backend=torch ocr_precision=fp32 runs it: no int8 export needed
#                                                 # (holdout: its smeared-crop probe, bench/motion_blur.py, runs int8)
#   PIPE_EXTRA="deinterlace_above=1" bash bench/ocr_sets.sh val W.pth NAME   # pipeline overrides for the end-to-end sets
#   ENSEMBLE="B.pth" bash bench/ocr_sets.sh val W.pth NAME fp32   # W and B read together (ocr/ensemble.py): the crop
#                                                 # sets with --ensemble B.pth, the end-to-end sets ocr_ensemble=[B.pth]
#                                                 # and, since the fifty-second session, the smeared-crop probe
#   ENSEMBLE="B.pth" ENSEMBLE_BELOW=0.9 bash ...  # a cascade: B reads only the crops W reads less surely than 0.9
# int8: the int8 export <stem>_int8.onnx of W (and of each ENSEMBLE model) is made beside it when missing or not its
# own (as the shipped one is made: ocr/export.py --int8, calibrated on synthetic plates and the real crops outside the
# validation and held-out splits)
# val: the validation crops (US O/0-folded, Argentinian exact), data_gen/two_row_val, the validation scenes and
# close-ups end to end (colour, greyscale, smeared by motion over 5 and 9 px: bench/dim_stills.py --motion) and the
# validation clip. holdout: the held-out crops (US and Argentinian, exact and O/0-folded; smeared over 6 and 9 % of
# their width: bench/motion_blur.py), data_gen/two_row_test, the pasted set, close-ups (colour and greyscale) and the
# pasted set smeared over 5 and 9 px end to end, the held-out dash-cam stills and the held-out clip. Draw the sets
# with bash bench/make_sets.sh val|holdout (their commands one by one: README.md and weights/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-}
W=${2:-}
NAME=${3:-$(basename "$W" .pth)}
case $MODE in
    val|holdout|fresh) ;;
    *) echo "usage: bash bench/ocr_sets.sh val|holdout|fresh W.pth [NAME [int8|fp32]]" >&2; exit 2 ;;
esac
PREC=${4:-int8}
case $PREC in
    int8) RUN_CROPS="--backend onnx --precision int8"; RUN_PIPE="" ;;
    fp32) RUN_CROPS="--backend torch --precision fp32"; RUN_PIPE="ocr_backend=torch ocr_precision=fp32" ;;
    *) echo "bench/ocr_sets.sh: precision must be int8 or fp32, not '$PREC'" >&2; exit 2 ;;
esac
RUN_PIPE="$RUN_PIPE ${PIPE_EXTRA:-}"
PROBE=""
if [ -n "${ENSEMBLE:-}" ]; then
    PROBE="--ensemble $ENSEMBLE --ensemble-below ${ENSEMBLE_BELOW:-1}"
    RUN_CROPS="$RUN_CROPS $PROBE"
    RUN_PIPE="$RUN_PIPE ocr_ensemble=[$(echo $ENSEMBLE | tr ' ' ',')] ocr_ensemble_below=${ENSEMBLE_BELOW:-1}"
elif [ -n "${ENSEMBLE_BELOW:-}" ]; then
    echo "bench/ocr_sets.sh: ENSEMBLE_BELOW needs ENSEMBLE (the models to ask)" >&2; exit 2
fi
D=../shared/data
for M in "$W" ${ENSEMBLE:-}; do  # each model is there, and on the int8 path has its own export
    [ -f "$M" ] || { echo "bench/ocr_sets.sh: no checkpoint '$M'" >&2; exit 2; }
    if [ "$PREC" = int8 ] && ! python -c "import sys; from pathlib import Path; from ocr.recognizer import matching_int8_export
sys.exit(matching_int8_export(Path(sys.argv[1])) is None)" "$M"; then
        echo "bench/ocr_sets.sh: making $M's int8 export beside it" >&2
        python ocr/export.py --weights "$M" --format onnx --int8 --calib $D/us_crops $D/ar_crops \
            --exclude configs/splits/real_crops_holdout.csv configs/splits/real_crops_val.csv > /dev/null
    fi
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pct() { python -c "import json,sys; d=json.load(open(sys.argv[1])); print(round(100*d[sys.argv[2]], 2))" "$@"; }
crops() {  # crops() OUT DATA [ocr/evaluate.py args]: the recognizer on a crop set (its int8 export, or fp32)
    local out=$1 data=$2
    shift 2
    python ocr/evaluate.py --weights "$W" $RUN_CROPS --data "$data" --json "$T/$out.json" "$@" > /dev/null
}
stills() {  # stills() SET [pipeline.evaluate args]: end to end
    local set=$1
    shift
    python -m pipeline.evaluate ocr_weights="$W" $RUN_PIPE --json "$T/$set.json" "$@" > /dev/null 2>&1
    line="$line | $set $(pct "$T/$set.json" read_acc)"
}
clip() {  # clip() DIR: vehicles read of the clip's
    python -m pipeline.evaluate --video "data_gen/$1/clip.mp4" --expected "data_gen/$1/expected.csv" ocr_weights="$W" $RUN_PIPE \
        --json "$T/clip.json" > /dev/null 2>&1
    line="$line | clip $(python -c "import json; d=json.load(open('$T/clip.json')); print(round(d['read_rate']*d['vehicles']), 'of', d['vehicles'])")"
}

if [ "$MODE" = val ]; then
    SPLIT=configs/splits/real_crops_val.csv
    crops us $D/us_crops --split-file $SPLIT --split holdout
    crops ar $D/ar_crops --split-file $SPLIT --split holdout
    crops tr data_gen/two_row_val
    line="$NAME us $(pct "$T/us.json" seq_acc_o0) | ar $(pct "$T/ar.json" seq_acc) | 2row $(pct "$T/tr.json" seq_acc)"
    for S in scenes_val scenes_close_val scenes_val_u_gray scenes_close_val_u_gray scenes_val_m5 scenes_val_m9; do
        stills $S --labels data_gen/$S/labels.csv
    done
    clip clip_val
elif [ "$MODE" = holdout ]; then
    SPLIT=configs/splits/real_crops_holdout.csv
    crops us $D/us_crops --split-file $SPLIT --split holdout
    crops ar $D/ar_crops --split-file $SPLIT --split holdout
    crops tr data_gen/two_row_test
    python bench/motion_blur.py --weights "$W" $PROBE --split holdout --json "$T/mb.json" > /dev/null
    line="$NAME us $(pct "$T/us.json" seq_acc) / $(pct "$T/us.json" seq_acc_o0) | ar $(pct "$T/ar.json" seq_acc) /"
    line="$line $(pct "$T/ar.json" seq_acc_o0) | 2row $(pct "$T/tr.json" seq_acc)"
    line="$line | crops smeared 6/9 % $(python -c "import json; d=json.load(open('$T/mb.json'))['by_share']; print(round(100*d['0.06'], 1), '/', round(100*d['0.09'], 1))")"
    for S in scenes_holdout scenes_close_holdout scenes_holdout_gray scenes_close_holdout_gray scenes_holdout_m5 \
             scenes_holdout_m9; do
        stills $S --labels data_gen/$S/labels.csv
    done
    stills stills --labels $D/dashcam_ro/labels.csv --split-file configs/splits/dashcam_holdout.csv
    clip clip_holdout
elif [ "$MODE" = fresh ]; then
    line="$NAME"
    for S in scenes_val_f scenes_close_val_f scenes_val_f_gray scenes_close_val_f_gray; do
        stills $S --labels data_gen/$S/labels.csv
    done
    line="${line/ | / }"
fi
echo "$line"
