#!/usr/bin/env bash
# Pack what bench/cuda.sh needs on a GPU machine that has Python, PyTorch, OpenCV, NumPy, PyYAML, ONNX Runtime and
# pytest but no network (a lent accelerator box, a locked-down server): the wheels of our other dependencies, at
# the versions this machine runs, and the held-out real data it measures, into .gpu_pack/ (ignored by git).
#   bash bench/gpu_pack.sh                 # wheels for CPython 3.12 on x86-64 Linux (PY=3.11 etc. for another)
# There, from the repository root (no pip install -e needed):
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .gpu_pack/wheels/*.whl
#   export PYTHONPATH=/tmp/site:$PWD; DATA=.gpu_pack/data bash bench/cuda.sh
# The data are the held-out rows of ../shared/data only (configs/splits/*holdout.csv), about 10 MB.
# Where the tree is copied there under a size cap, copy it between `bash bench/gpu_slim_tree.sh hide` and
# `... restore` (~28 MiB without the CPU-only files, plus .gpu_pack), and bring back bench/results/cuda_* (one
# tar.gz holds them all). bench/cuda.sh takes a few minutes on one GPU; the suite's share is about one.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-3.12}
D=${DATA:-../shared/data}
P=.gpu_pack
[ -d "$D/us_crops" ] || { echo "error: $D/us_crops not found (DATA=folder of us_crops, ar_crops, dashcam_ro)"; exit 2; }
rm -rf "$P" && mkdir -p "$P/wheels" "$P/data"

# Wheels: the packages bench/cuda.sh imports that a PyTorch image lacks, pinned to what this machine runs.
# polars, ultralytics-platform and torchao are left out: nothing the GPU figures run imports them.
pins=()
for name in ultralytics ultralytics-thop shapely loguru lap; do
    v=$(python -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')
    [ -n "$v" ] || { echo "error: $name is not installed here (pip install -e . first)"; exit 2; }
    pins+=("$name==$v")
done
plats=()
for n in 17 24 27 28 31 34 35; do plats+=(--platform "manylinux_2_${n}_x86_64"); done
python -m pip download -q --no-deps --only-binary=:all: --python-version "$PY" --implementation cp \
    "${plats[@]}" --platform manylinux2014_x86_64 -d "$P/wheels" "${pins[@]}"

# Data: the held-out rows, with labels.csv cut to them (the split files still select them by name).
python - "$D" "$P/data" <<'EOF'
import csv, shutil, sys
from pathlib import Path

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
for split in ("configs/splits/real_crops_holdout.csv", "configs/splits/dashcam_holdout.csv"):
    keep: dict[str, set[str]] = {}
    for row in csv.DictReader(open(split, newline="")):
        keep.setdefault(row["dataset"], set()).add(row["image"])
    for ds, names in keep.items():
        (dst / ds / "images").mkdir(parents=True, exist_ok=True)
        with open(src / ds / "labels.csv", newline="") as f:
            reader = csv.DictReader(f)
            rows = [r for r in reader if r["image"] in names]
            fields = reader.fieldnames
        with open(dst / ds / "labels.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)
        for name in {r["image"] for r in rows}:
            shutil.copy2(src / ds / "images" / name, dst / ds / "images" / name)
        print(f"{dst / ds}: {len(rows)} rows")
EOF
ls "$P/wheels"
du -sh "$P/wheels" "$P/data"
