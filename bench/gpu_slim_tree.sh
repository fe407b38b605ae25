#!/usr/bin/env bash
# For a remote GPU runner that copies this working tree under a size cap (the tracked files are ~145 MB, most of
# it the seed-size OCR weights and the CPU's ONNX exports, which bench/cuda.sh does not need on a GPU):
#   bash bench/gpu_slim_tree.sh hide      # untrack them in the index only and ignore them in weights/.gitignore (files stay on disk)
#   bash bench/gpu_slim_tree.sh size      # what would travel: tracked + untracked-not-ignored (+ .gpu_pack)
#   bash bench/gpu_slim_tree.sh restore   # track them again, exactly as before
# Never commit between hide and restore: the commit would delete them. hide refuses when anything is staged.
set -euo pipefail
cd "$(dirname "$0")/.."
BIG=(weights/ocr_digits.pth weights/ocr_latin_seed.pth weights/ocr_latin_seed_int8.onnx weights/ocr_latin_int8.onnx
     weights/ocr_latin_m16.pth weights/ocr_latin_m16_int8.onnx
     weights/detector.onnx weights/detector_gray.onnx weights/detector_int8.onnx)
IGN=weights/.gitignore  # beats the root .gitignore's !weights/*.onnx, which info/exclude would not
size() {
    { git ls-files -z; git ls-files -z --others --exclude-standard; } | du -cb --files0-from=- 2>/dev/null | tail -1 \
        | awk '{printf "tree that travels: %.1f MiB\n", $1 / 1048576}'
    [ -d .gpu_pack ] && du -sb .gpu_pack | awk '{printf ".gpu_pack (carried): %.1f MiB\n", $1 / 1048576}'
    return 0
}
case "${1:-}" in
    hide)
        git diff --cached --quiet || { echo "error: changes are staged; commit or unstage them first"; exit 2; }
        [ ! -e "$IGN" ] || { echo "error: $IGN exists: already hidden? (restore first)"; exit 2; }
        git rm -q --cached -- "${BIG[@]}"
        { echo "# written by bench/gpu_slim_tree.sh hide; removed by restore"; echo /.gitignore
          printf '/%s\n' "${BIG[@]#weights/}"; } > "$IGN"
        echo "hidden: ${BIG[*]} (bash bench/gpu_slim_tree.sh restore to track them again)"
        size ;;
    restore)
        git reset -q -- "${BIG[@]}"
        rm -f "$IGN"
        if [ -n "$(git status --short -- "${BIG[@]}")" ]; then
            echo "error: weights differ from HEAD:"
            git status --short -- "${BIG[@]}"
            exit 1
        fi
        echo "restored: the weights are tracked again"
        size ;;
    size) size ;;
    *) echo "usage: bash bench/gpu_slim_tree.sh hide|size|restore"; exit 2 ;;
esac
