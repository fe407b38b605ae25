#!/usr/bin/env bash
# Re-run every figure the README and weights/README report, writing bench/results/ (on 2 CPU cores the accuracy part
# took 52 minutes on an AMX Xeon and 108 on an AVX2-only EPYC; the speed part, bench/speed.sh, 10 minutes on the Xeon).
# Run on an idle machine, in one sitting: speeds on a shared VM drift by the hour.
#   bash bench/all.sh            # everything
#   bash bench/all.sh accuracy   # accuracy only (no speed benchmarks)
#   R=bench/results/sitting_X bash bench/all.sh   # a sitting of its own, beside the recorded files
# Needs the generated sets: data_gen/digits_test, data_gen/digits_300, data_gen/two_row_test, the validation sets
# data_gen/scenes_val and data_gen/two_row_val, data_gen/scenes_holdout, data_gen/scenes_close_holdout (and their greyscale twins, `_gray`: the same commands
# with --gray), data_gen/clip_holdout and data_gen/clip_holdout_busy (commands in README.md; bash bench/make_sets.sh val holdout draws them all).
set -euo pipefail
cd "$(dirname "$0")/.."
R=${R:-bench/results}
mkdir -p "$R"
D=../shared/data
HOLD=configs/splits/dashcam_holdout.csv

# OCR on the held-out real crops and the synthetic digit test set
python ocr/evaluate.py --weights weights/ocr_latin.pth --data $D/us_crops \
    --split-file configs/splits/real_crops_holdout.csv --split holdout --json $R/ocr_latin_us_holdout.json
python ocr/evaluate.py --weights weights/ocr_latin.pth --data $D/ar_crops \
    --split-file configs/splits/real_crops_holdout.csv --split holdout --json $R/ocr_latin_ar_holdout.json
for S in us ar; do  # the seed-size latin model (an option: level with the half-width one, ~3x slower)
    python ocr/evaluate.py --weights weights/ocr_latin_seed.pth --data $D/${S}_crops \
        --split-file configs/splits/real_crops_holdout.csv --split holdout --json $R/ocr_latin_seed_${S}_holdout.json
done
for M in latin latin_seed; do  # bf16 autocast (the torch backend on AMX CPUs; emulated, so slow, elsewhere)
    for S in us ar; do
        python ocr/evaluate.py --weights weights/ocr_$M.pth --data $D/${S}_crops --precision bf16 \
            --split-file configs/splits/real_crops_holdout.csv --split holdout --json $R/ocr_${M}_bf16_${S}_holdout.json
    done
done
for M in latin latin_seed; do  # torch.compile'd int8 convolutions (ocr/accel.py; the fastest on AMX CPUs)
    for S in us ar; do
        python ocr/evaluate.py --weights weights/ocr_$M.pth --data $D/${S}_crops --precision int8 --compile \
            --split-file configs/splits/real_crops_holdout.csv --split holdout --json $R/ocr_${M}_compiled_int8_${S}_holdout.json
    done
done
for M in latin latin_seed; do  # the CPU default: ONNX Runtime, weights/ocr_<M>_int8.onnx in the checkpoint's place
    for S in us ar; do
        python ocr/evaluate.py --weights weights/ocr_$M.pth --data $D/${S}_crops --backend onnx --precision int8 \
            --split-file configs/splits/real_crops_holdout.csv --split holdout --json $R/ocr_${M}_int8_${S}_holdout.json
    done
done
python ocr/evaluate.py --weights weights/ocr_digits.pth --data data_gen/digits_test --json $R/ocr_digits_synth_test.json
python ocr/evaluate.py --weights weights/ocr_latin.pth --data data_gen/two_row_test \
    --json $R/ocr_latin_two_row_synth_test.json
python ocr/evaluate.py --weights weights/ocr_latin_seed.pth --data data_gen/two_row_test \
    --json $R/ocr_latin_seed_two_row_synth_test.json

# Detector on the held-out rides (plain, then with the unlabelled plates ignored) and on the pasted set
python detection/evaluate.py --weights weights/detector.pt --labels $D/dashcam_ro/labels.csv --split-file $HOLD \
    --json $R/detector_dashcam_holdout.json
python detection/evaluate.py --weights weights/detector.pt --labels $D/dashcam_ro/labels.csv --split-file $HOLD \
    --ignore configs/splits/dashcam_holdout_unboxed.csv --json $R/detector_dashcam_holdout_ignore_unboxed.json
python detection/evaluate.py --weights weights/detector.pt --labels data_gen/scenes_holdout/labels.csv \
    --json $R/detector_pasted_crops_holdout.json
python detection/evaluate.py --weights weights/detector.pt --labels data_gen/scenes_close_holdout/labels.csv \
    --json $R/detector_close_ups_holdout.json

# End to end: the clip, the held-out stills, the pasted set
python -m pipeline.evaluate --video samples/clip.mp4 --expected samples/clip_expected.csv --json $R/pipeline_clip.json
python -m pipeline.evaluate --video data_gen/clip_holdout/clip.mp4 --expected data_gen/clip_holdout/expected.csv \
    --json $R/pipeline_clip_holdout.json
for T in bytetrack botsort; do  # three vehicles at a time before a turning camera, with either tracker (unsure reads
    # not held, as when the tracker was chosen), then with the defaults
    python -m pipeline.evaluate --video data_gen/clip_holdout_busy/clip.mp4 --expected data_gen/clip_holdout_busy/expected.csv \
        tracker.tracker_type=$T fusion.hold_below=0 --json $R/tracker_busy_holdout_$T.json
done
for H in 0.6 0; do  # unsure reads held while their vehicle may still be in view (the default) and not
    for C in clip_holdout_busy clip_holdout; do
        python -m pipeline.evaluate --video data_gen/$C/clip.mp4 --expected data_gen/$C/expected.csv \
            fusion.hold_below=$H --json $R/fusion_hold${H}_$C.json
    done
done
for G in true false; do  # a fixed camera's quiet road, with and without the motion gate (motion_gate_val.txt)
    python -m pipeline.evaluate --video data_gen/clip_holdout_quiet/clip.mp4 \
        --expected data_gen/clip_holdout_quiet/expected.csv motion_gate=$G --json $R/motion_gate_${G}_quiet_holdout.json
    python bench/motion_gate_noise.py --video data_gen/clip_holdout_quiet/clip.mp4 \
        --expected data_gen/clip_holdout_quiet/expected.csv --noise 6 motion_gate=$G \
        --json $R/motion_gate_${G}_noise6_quiet_holdout.json
done
python -m pipeline.evaluate --labels $D/dashcam_ro/labels.csv --split-file $HOLD --json $R/pipeline_dashcam_holdout.json
python -m pipeline.evaluate --labels data_gen/scenes_holdout/labels.csv --json $R/pipeline_pasted_crops_holdout.json \
    --predictions $R/pipeline_pasted_crops_holdout.jsonl
# What a confidence is worth: the held-out crops, the pasted set's reads and the held-out clip's events
python bench/confidence.py --split holdout --json $R/confidence_crops_holdout.json
python bench/confidence.py --labels data_gen/scenes_holdout/labels.csv --predictions $R/pipeline_pasted_crops_holdout.jsonl \
    --json $R/confidence_pasted_holdout.json
python bench/confidence.py --clip $R/pipeline_clip_holdout.json --json $R/confidence_clip_holdout.json
# The harvest's vehicle threshold (harvest_thresholds.txt): the four held-out clips' events pooled
for C in clip_holdout_busy clip_holdout_quiet clip_holdout_i; do
    python -m pipeline.evaluate --video data_gen/$C/clip.mp4 --expected data_gen/$C/expected.csv \
        --json $R/pipeline_$C.json
done
python bench/confidence.py --clip $R/pipeline_clip_holdout.json $R/pipeline_clip_holdout_busy.json \
    $R/pipeline_clip_holdout_quiet.json $R/pipeline_clip_holdout_i.json --json $R/confidence_clips_holdout.json
# The OCR as a GPU runs it by default (fp16), emulated on the CPU, against fp32 (ocr_fp16_emulated.txt)
python bench/fp16_emulated.py --data $D/us_crops $D/ar_crops --split-file configs/splits/real_crops_holdout.csv \
    --split holdout --json $R/ocr_fp16_emulated_holdout.json
python bench/fp16_emulated.py --ensemble weights/ocr_latin_m16.pth --data $D/us_crops $D/ar_crops \
    --split-file configs/splits/real_crops_holdout.csv --split holdout --json $R/ocr_fp16_emulated_pair_holdout.json
python -m pipeline.evaluate --labels data_gen/scenes_close_holdout/labels.csv --json $R/pipeline_close_ups_holdout.json
# High-resolution photos: the pasted set's frames laid out 3x3 in 3840x2160 images, searched in tiles (the default for
# stills over 1920 px, detector.still_tile) and by the whole-image pass alone
python bench/mosaic_stills.py --labels data_gen/scenes_holdout/labels.csv --out data_gen/mosaic_holdout --grid 3
for T in 1280 0; do
    python -m pipeline.evaluate --labels data_gen/mosaic_holdout/labels.csv detector.still_tile=$T \
        --json $R/pipeline_mosaic_holdout_tile$T.json
done
# Photos that are all plate: the held-out crops as stills (box = the whole image), as they are and 8x enlarged,
# with the zoomed-out second look (the default, detector.still_zoom_out) and without it
for X in 1 8; do
    S=$([ $X = 1 ] || echo _x$X)
    python bench/plate_photos.py --data $D/us_crops $D/ar_crops --include configs/splits/real_crops_holdout.csv \
        --out data_gen/plate_photos_holdout$S --scale $X
    python -m pipeline.evaluate --labels data_gen/plate_photos_holdout$S/labels.csv \
        --json $R/pipeline_plate_photos_holdout$S.json
    python -m pipeline.evaluate --labels data_gen/plate_photos_holdout$S/labels.csv detector.still_zoom_out=0 \
        --json $R/pipeline_plate_photos_holdout${S}_nozoom.json
done
# Plates photographed askew: the held-out crops turned 10, 15 and 20 degrees on a canvas, cut level before reading
# (the default, deskew_min_deg=8) and not
for A in 10 15 20; do
    python bench/plate_photos.py --data $D/us_crops $D/ar_crops --include configs/splits/real_crops_holdout.csv \
        --out data_gen/plate_photos_holdout_roll$A --roll $A
    for M in 8 0; do
        python -m pipeline.evaluate --labels data_gen/plate_photos_holdout_roll$A/labels.csv deskew_min_deg=$M \
            --json $R/pipeline_plate_photos_holdout_roll${A}_deskew$M.json
    done
done
# Plates seen from the side (30, 45, 60 degrees: a one-row plate as narrow as a two-row one), and the synthetic
# two-row test plates as photos, with narrow crops also read as one row (the default for stills) and not
for Y in 30 45 60; do
    python bench/plate_photos.py --data $D/us_crops $D/ar_crops --include configs/splits/real_crops_holdout.csv \
        --out data_gen/plate_photos_holdout_yaw$Y --yaw $Y
done
python bench/plate_photos.py --data data_gen/two_row_test --out data_gen/plate_photos_two_row_test
for S in plate_photos_holdout_yaw30 plate_photos_holdout_yaw45 plate_photos_holdout_yaw60 plate_photos_two_row_test; do
    for B in stills never; do
        python -m pipeline.evaluate --labels data_gen/$S/labels.csv narrow_both_ways=$B --json $R/pipeline_narrow_${B}_$S.json
    done
done
# The pasted set dim (a fifth of its contrast: night without infrared) and washed out (glare, haze), with dim crops
# stretched in contrast before reading (the option crop_stretch_below=60) and not (the default)
python bench/dim_stills.py --labels data_gen/scenes_holdout/labels.csv --out data_gen/scenes_holdout_dim --gain 0.2
python bench/dim_stills.py --labels data_gen/scenes_holdout/labels.csv --out data_gen/scenes_holdout_washed \
    --gain 0.4 --offset 150
for S in scenes_holdout_dim scenes_holdout_washed; do
    for B in 60 0; do
        python -m pipeline.evaluate --labels data_gen/$S/labels.csv crop_stretch_below=$B \
            --json $R/pipeline_stretch${B}_$S.json
    done
done
# ...and dark / pale frames stretched for the detector (the defaults, detector.dark_below=100, pale_above=120) and not
for B in 100 0; do
    python -m pipeline.evaluate --labels data_gen/scenes_holdout_dim/labels.csv detector.dark_below=$B \
        --json $R/pipeline_dark${B}_scenes_holdout_dim.json
done
for B in 120 0; do
    python -m pipeline.evaluate --labels data_gen/scenes_holdout_washed/labels.csv detector.pale_above=$B \
        --json $R/pipeline_pale${B}_scenes_holdout_washed.json
done
# Motion blur: the held-out crops smeared along the plate over 0-12 % of their width, and the pasted set smeared
# over 5 and 9 px (a passing car at a slow shutter); the held-out crops with an interlaced frame's fields moved
# apart, and split by whether their plate is in a training crop
python bench/motion_blur.py --split holdout --json $R/motion_blur_holdout.json | tee $R/motion_blur_holdout.txt
python bench/interlace.py --split holdout --json $R/interlace_holdout.json | tee $R/interlace_holdout.txt
for T in 1 0; do  # the held-out clip filmed by an interlaced camera, with and without de-interlacing
    python -m pipeline.evaluate --video data_gen/clip_holdout_i/clip.mp4 --expected data_gen/clip_holdout_i/expected.csv \
        deinterlace_above=$T detector.deinterlace_above=$T --json $R/pipeline_deinterlace${T}_clip_holdout_i.json
done
for S in scenes_holdout_i4 scenes_close_holdout_i4; do  # interlaced frames end to end: combed frames detected and
    for T in 1 0; do                                      # combed crops read also as one field (the defaults), and not
        python -m pipeline.evaluate --labels data_gen/$S/labels.csv deinterlace_above=$T detector.deinterlace_above=$T \
            --json $R/pipeline_deinterlace${T}_$S.json
    done
done
python bench/unseen_plates.py --json $R/unseen_plates.json | tee $R/unseen_plates.txt
for M in 5 9; do
    python bench/dim_stills.py --labels data_gen/scenes_holdout/labels.csv --out data_gen/scenes_holdout_m$M \
        --gain 1 --motion $M
    python -m pipeline.evaluate --labels data_gen/scenes_holdout_m$M/labels.csv --json $R/pipeline_scenes_holdout_m$M.json
done
# The greyscale twins of the pasted sets (monochrome / IR cameras): the pipeline sends monochrome frames to
# weights/detector_gray.pt (detector.gray_weights); also each detector alone, and detector_gray.pt on the colour
# test sets (where the default sends nothing to it)
for DET in detector detector_gray; do
    X=$([ $DET = detector ] || echo _$DET)
    for S in scenes_holdout scenes_close_holdout; do
        python detection/evaluate.py --weights weights/$DET.pt --labels data_gen/${S}_gray/labels.csv \
            --json $R/detector_${S}_gray$X.json
        python -m pipeline.evaluate --labels data_gen/${S}_gray/labels.csv detector.weights=weights/$DET.pt \
            detector.gray_weights= --json $R/pipeline_${S}_gray$X.json
    done
done
for S in scenes_holdout scenes_close_holdout; do  # the default configuration (monochrome frames to detector_gray)
    python -m pipeline.evaluate --labels data_gen/${S}_gray/labels.csv --json $R/pipeline_${S}_gray_default.json
done
G=weights/detector_gray.pt
python detection/evaluate.py --weights $G --labels $D/dashcam_ro/labels.csv --split-file $HOLD \
    --ignore configs/splits/dashcam_holdout_unboxed.csv --json $R/detector_dashcam_holdout_ignore_unboxed_detector_gray.json
python -m pipeline.evaluate --labels $D/dashcam_ro/labels.csv --split-file $HOLD detector.weights=$G detector.gray_weights= \
    --json $R/pipeline_dashcam_holdout_detector_gray.json
python -m pipeline.evaluate --labels data_gen/scenes_holdout/labels.csv detector.weights=$G detector.gray_weights= \
    --json $R/pipeline_pasted_crops_holdout_detector_gray.json
python -m pipeline.evaluate --labels data_gen/scenes_close_holdout/labels.csv detector.weights=$G detector.gray_weights= \
    --json $R/pipeline_close_ups_holdout_detector_gray.json
python -m pipeline.evaluate --labels data_gen/scenes_holdout/labels.csv ocr_weights=weights/ocr_latin_seed.pth \
    --json $R/pipeline_pasted_crops_holdout_latin_seed.json
# The int8 detector option (static int8, ONNX Runtime; faster on AVX-512 VNNI CPUs): the held-out stills, the
# pasted set, the close-ups
F8="detector.weights=weights/detector_int8.onnx"
python -m pipeline.evaluate --labels $D/dashcam_ro/labels.csv --split-file $HOLD $F8 --json $R/pipeline_dashcam_holdout_int8.json
# the compiled int8 OCR option (ocr/accel.py; AMX CPUs): the held-out stills
python -m pipeline.evaluate --labels $D/dashcam_ro/labels.csv --split-file $HOLD ocr_compile=true ocr_precision=int8 \
    --json $R/pipeline_dashcam_holdout_compiled_int8.json
python -m pipeline.evaluate --labels data_gen/scenes_holdout/labels.csv $F8 --json $R/pipeline_pasted_crops_holdout_int8.json
python -m pipeline.evaluate --labels data_gen/scenes_close_holdout/labels.csv $F8 --json $R/pipeline_close_ups_holdout_int8.json
# How the OCR's int8 export is calibrated: eight recipes on the validation crops (needs data_gen/scenes_val and
# data_gen/two_row_val, commands in configs/ocr_latin.yaml)
python bench/ocr_int8_calibration.py --json $R/ocr_int8_calibration.json | tee $R/ocr_int8_calibration.txt
python bench/ocr_int8_calibration.py --weights weights/ocr_latin_seed.pth --json $R/ocr_int8_calibration_seed.json \
    | tee $R/ocr_int8_calibration_seed.txt
# Far plates shrunk by a sampling warp (aliased, how the scene synthesiser shrank them before) or by area averaging
python bench/far_plates.py --json $R/far_plates_val.json | tee $R/far_plates_val.txt
# validation crops read with a contrast stretch before the OCR (not kept: docs/findings.md)
python bench/ocr_contrast.py --json $R/ocr_contrast.json | tee $R/ocr_contrast.txt

# The OCR ensemble option: model 17 with model 16 (weights/ocr_latin_m16.pth), its parent, read together through
# their int8 exports, on every held-out set (ocr_ensemble_m16_m17_holdout.txt)
ENSEMBLE=weights/ocr_latin_m16.pth bash bench/ocr_sets.sh holdout weights/ocr_latin.pth m17+m16 \
    | tee $R/ocr_ensemble_m16_holdout.txt

[ "${1:-}" = accuracy ] && exit 0
# Speed (bench/speed.sh: also run alone)
R=$R bash bench/speed.sh
