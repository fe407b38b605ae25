#!/usr/bin/env bash
# Draw the generated sets under data_gen/ that training and the benchmarks read (they are not in git: a fresh
# machine has none). Each set is drawn from a fixed seed, so it comes out the same on every machine; a set whose
# folder already holds labels.csv is left as it is.
#   bash bench/make_sets.sh val       # what bench/ocr_sets.sh val reads (about a minute on 2 CPU cores)
#   bash bench/make_sets.sh holdout   # what bench/ocr_sets.sh holdout and bench/all.sh read (about 2 minutes)
#   bash bench/make_sets.sh train     # the scene draws configs/ocr_latin.yaml and detector_train.yaml train on (~7 min)
#   bash bench/make_sets.sh faces     # the same 400 plates in each set of character faces (bench/results/ocr_faces.txt)
#   bash bench/make_sets.sh fresh     # fresh draws of the validation scenes (new seeds; about 2 minutes)
#   bash bench/make_sets.sh all       # or several: bash bench/make_sets.sh val holdout
# The same commands, one by one, are in README.md, weights/README.md and configs/ocr_latin.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
D=../shared/data
VAL=configs/splits/real_crops_val.csv
HOLD=configs/splits/real_crops_holdout.csv
RIDES_HOLD=configs/splits/dashcam_holdout.csv
SCENES="python detection/scenes.py --backgrounds $D/dashcam_ro --plates $D/us_crops $D/ar_crops"
CLIP="python -m pipeline.synth_clip --backgrounds $D/dashcam_ro --plates $D/us_crops $D/ar_crops"

draw() {  # draw() NAME COMMAND...: run COMMAND unless data_gen/NAME is already drawn
    local name=$1
    shift
    if [ -f "data_gen/$name/labels.csv" ] || [ -f "data_gen/$name/expected.csv" ]; then
        echo "data_gen/$name: already there"
        return
    fi
    echo "data_gen/$name: drawing"
    "$@" > /dev/null
}

val_scenes() {  # val_scenes SCENES CLOSE GRAY GRAY_CLOSE N SEED N_CLOSE SEED_CLOSE: the validation crops pasted into
    # N training frames (seed SEED) and N_CLOSE close-ups (SEED_CLOSE), in colour and greyscale, as the four named sets
    local v="--include $VAL --exclude $RIDES_HOLD --synth-share 0"
    local u="--unboxed configs/splits/dashcam_train_unboxed.csv"
    draw "$1" $SCENES $v --out "data_gen/$1" --n "$5" --seed "$6"
    draw "$2" $SCENES $v --out "data_gen/$2" --n "$7" --seed "$8" --close-up-share 1
    draw "$3" $SCENES $v $u --out "data_gen/$3" --n "$5" --seed "$6" --gray
    draw "$4" $SCENES $v $u --out "data_gen/$4" --n "$7" --seed "$8" --close-up-share 1 --gray
}

val() {  # validation crops pasted into training frames, and what is made from them
    local u="--unboxed configs/splits/dashcam_train_unboxed.csv"
    val_scenes scenes_val scenes_close_val scenes_val_u_gray scenes_close_val_u_gray 150 7 100 17
    for M in 5 9; do
        draw scenes_val_m$M python bench/dim_stills.py --labels data_gen/scenes_val/labels.csv \
            --out data_gen/scenes_val_m$M --gain 1 --motion $M
    done
    for S in scenes_val scenes_close_val; do  # an interlaced camera's fields 4 px apart
        draw ${S}_i4 python bench/dim_stills.py --labels data_gen/$S/labels.csv --out data_gen/${S}_i4 --gain 1 \
            --interlace 4
    done
    draw two_row_val python ocr/synth.py --out data_gen/two_row_val --n 100 --mix two_row --seed 21
    draw digits_val500 python ocr/synth.py --out data_gen/digits_val500 --n 500 --mix digits --seed 777
    draw clip_val $CLIP --include $VAL --exclude $RIDES_HOLD $u --out data_gen/clip_val --vehicles 50 --seed 4
    # the same vehicles filmed by an interlaced camera (each frame's odd rows half a frame later)
    draw clip_val_i $CLIP --include $VAL --exclude $RIDES_HOLD $u --out data_gen/clip_val_i --vehicles 50 --seed 4 \
        --interlace
    # three vehicles at a time, the camera turning 80 px and back (bench/results/tracker_rule.txt)
    draw clip_val_busy $CLIP --include $VAL --exclude $RIDES_HOLD $u --out data_gen/clip_val_busy --vehicles 48 \
        --seed 5 --together 3 --pan 80
    # a fixed camera's quiet road: 3 s between vehicles, noise added before encoding (motion_gate_rule.txt)
    draw clip_val_quiet $CLIP --include $VAL --exclude $RIDES_HOLD $u --out data_gen/clip_val_quiet --vehicles 20 \
        --seed 7 --gap 75 --noise 3
}

holdout() {  # held-out crops pasted into held-out frames, and what is made from them
    local h="--include $RIDES_HOLD $HOLD --synth-share 0"
    draw scenes_holdout $SCENES $h --out data_gen/scenes_holdout --n 300 --seed 99
    draw scenes_close_holdout $SCENES $h --out data_gen/scenes_close_holdout --n 150 --seed 98 --close-up-share 1
    draw scenes_holdout_gray $SCENES $h --out data_gen/scenes_holdout_gray --n 300 --seed 99 --gray
    draw scenes_close_holdout_gray $SCENES $h --out data_gen/scenes_close_holdout_gray --n 150 --seed 98 \
        --close-up-share 1 --gray
    for M in 5 9; do
        draw scenes_holdout_m$M python bench/dim_stills.py --labels data_gen/scenes_holdout/labels.csv \
            --out data_gen/scenes_holdout_m$M --gain 1 --motion $M
    done
    for S in scenes_holdout scenes_close_holdout; do
        draw ${S}_i4 python bench/dim_stills.py --labels data_gen/$S/labels.csv --out data_gen/${S}_i4 --gain 1 \
            --interlace 4
    done
    draw clip_holdout $CLIP --include $RIDES_HOLD $HOLD --unboxed configs/splits/dashcam_holdout_unboxed.csv \
        --out data_gen/clip_holdout --vehicles 60 --seed 3
    draw clip_holdout_i $CLIP --include $RIDES_HOLD $HOLD --unboxed configs/splits/dashcam_holdout_unboxed.csv \
        --out data_gen/clip_holdout_i --vehicles 60 --seed 3 --interlace
    draw clip_holdout_busy $CLIP --include $RIDES_HOLD $HOLD --unboxed configs/splits/dashcam_holdout_unboxed.csv \
        --out data_gen/clip_holdout_busy --vehicles 60 --seed 6 --together 3 --pan 80
    draw clip_holdout_quiet $CLIP --include $RIDES_HOLD $HOLD --unboxed configs/splits/dashcam_holdout_unboxed.csv \
        --out data_gen/clip_holdout_quiet --vehicles 20 --seed 8 --gap 75 --noise 3
    draw two_row_test python ocr/synth.py --out data_gen/two_row_test --n 300 --mix two_row --seed 22
    draw digits_test python ocr/synth.py --out data_gen/digits_test --n 2000 --mix digits --seed 1234
    draw digits_300 python ocr/synth.py --out data_gen/digits_300 --n 300 --mix digits --seed 4321
}

train() {  # the pasted training scenes: scenes2-4 for the OCR (configs/ocr_latin.yaml), scenes-scenes3 for the
    # detector (configs/detector_train.yaml; README.md, "Detector")
    local t="--exclude $RIDES_HOLD $HOLD $VAL"
    for S in 0 1 2 3; do
        local name=scenes$((S + 1))
        [ $S -eq 0 ] && name=scenes
        draw $name $SCENES $t --out data_gen/$name --n 3000 --seed $S
    done
}

fresh() {  # fresh draws of the validation scenes (new seeds, twice the frames): a candidate against a model chosen on
    # the draws of val() (weights/runs/ocr_latin_ft26_fresh_rule.txt)
    val_scenes scenes_val_f scenes_close_val_f scenes_val_f_gray scenes_close_val_f_gray 300 70 200 170
    # the validation clips drawn afresh (bench/results/box_buffer/rule2.txt)
    local v="--include $VAL --exclude $RIDES_HOLD --unboxed configs/splits/dashcam_train_unboxed.csv"
    draw clip_val_f $CLIP $v --out data_gen/clip_val_f --vehicles 50 --seed 40
    draw clip_val_busy_f $CLIP $v --out data_gen/clip_val_busy_f --vehicles 48 --seed 50 --together 3 --pan 80
}

faces() {  # one draw of synthetic plates (seed 31) in each set of character faces: a probe of faces never seen
    for F in ttf stroke plate round; do
        draw faces_$F python ocr/synth.py --out data_gen/faces_$F --n 400 --mix latin --seed 31 --fonts $F
    done
}

[ $# -gt 0 ] || set -- usage
for GROUP in "$@"; do
    case $GROUP in
        val) val ;;
        holdout) holdout ;;
        train) train ;;
        faces) faces ;;
        fresh) fresh ;;
        all) val; holdout; train; faces; fresh ;;
        *) echo "usage: bash bench/make_sets.sh val|holdout|train|faces|fresh|all [...]" >&2; exit 2 ;;
    esac
done
