#!/usr/bin/env bash
# The GPU figures in one run, on a machine with an NVIDIA GPU and CUDA (a few minutes): the test suite with CUDA
# present (the CUDA test and the shipped models' CUDA path), the OCR's speed (PyTorch fp32 and fp16, batch 1 and
# 32) and training speed, the detector's speed, the held-out OCR accuracy in fp16, the pipeline's frames per
# second on the bundled clip and its ms per still photo. Raw outputs: bench/results/cuda_*.
#   bash bench/cuda.sh                    # the real-data steps read ../shared/data (DATA=folder to change it)
# A step that fails is reported and the others still run (the exit status is then 1). A seed-size model whose
# weights are not here (a tree copied without the large files) is timed untrained at that size: speed does not
# depend on the weights. On a machine with no network, see bench/gpu_pack.sh. The CPU figures are bench/all.sh's.
set -uo pipefail
cd "$(dirname "$0")/.."
export YOLO_OFFLINE=1 PYTHONUNBUFFERED=1
python -c "import sys, torch; torch.cuda.is_available() or sys.exit('error: no CUDA device: bench/cuda.sh measures the GPU path (bench/all.sh the CPU)')" || exit 2
R=bench/results
mkdir -p "$R"
D=${DATA:-../shared/data}
HOLD=configs/splits/real_crops_holdout.csv
FAILED=()
step() {  # step NAME COMMAND...: run COMMAND, note NAME if it fails
    local name=$1
    shift
    echo "== $name"
    "$@" || { echo "!! $name failed"; FAILED+=("$name"); }
}
python - <<'PY' | tee $R/cuda_machine.txt
import platform, torch
print(f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"{torch.get_num_threads()} CPU threads ({platform.processor() or platform.machine()})")
PY

step tests bash -o pipefail -c "python -m pytest -q -p no:cacheprovider tests 2>&1 | tail -15 | tee $R/cuda_tests.txt"
for M in digits latin latin_seed; do
    W=(--weights weights/ocr_$M.pth)
    if [ ! -f weights/ocr_$M.pth ]; then  # the seed size, untrained, with the alphabet of the shipped latin model
        W=(--weights weights/ocr_latin.pth --width-mult 1.0)
        echo "weights/ocr_$M.pth not here: timing an untrained seed-size model"
    fi
    step "ocr speed $M" bash -o pipefail -c "python bench/ocr_speed.py ${W[*]} --only cuda --repeats 30 \
        --json $R/cuda_ocr_speed_$M.json | tee $R/cuda_ocr_speed_$M.txt"
done
step "train speed" bash -o pipefail -c "python bench/train_speed.py --device cuda --steps 20 --json $R/cuda_train_speed.json \
    | tee $R/cuda_train_speed.txt"
step "detector speed" bash -o pipefail -c "python bench/detector_speed.py --weights weights/detector.pt --only cuda --repeats 100 \
    | tee $R/cuda_detector_speed.txt"
step "pipeline fps" python bench/pipeline_fps.py motion_gate=false --json $R/cuda_pipeline_fps.json
if [ -d "$D/us_crops" ] && [ -d "$D/ar_crops" ]; then
    for S in us ar; do  # precision auto: fp16 on CUDA
        step "held-out $S crops" bash -o pipefail -c "python ocr/evaluate.py --weights weights/ocr_latin.pth --data $D/${S}_crops \
            --show 0 --split-file $HOLD --split holdout --json $R/cuda_ocr_latin_fp16_${S}_holdout.json | tail -8"
    done
fi
if [ -f "$D/dashcam_ro/labels.csv" ]; then
    step "dash-cam stills" bash -o pipefail -c "python -m pipeline.evaluate --labels $D/dashcam_ro/labels.csv \
        --split-file configs/splits/dashcam_holdout.csv --json $R/cuda_pipeline_dashcam_holdout.json | tail -6"
fi
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "bench/cuda.sh: ${#FAILED[@]} step(s) failed: ${FAILED[*]}; the others' figures are in $R/cuda_*"
    exit 1
fi
echo "bench/cuda.sh: done; figures in $R/cuda_*"
