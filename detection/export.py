"""Export the detector to ONNX with ultralytics' own exporter (for faster CPU inference), optionally in int8.

    python detection/export.py --weights weights/detector.pt --imgsz 640
    python detection/export.py --weights weights/detector.pt --int8 --calib ../shared/data/dashcam_ro/images \
        data_gen/scenes_close_calib/images --exclude configs/splits/dashcam_holdout.csv   # -> weights/detector_int8.onnx

`--int8`: static int8 (ONNX Runtime's quantiser, QDQ, per-channel weights), its activation ranges calibrated on
`--n-calib` frames of `--calib` (letterboxed as ultralytics does); faster on CPUs with AVX-512 VNNI.
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import random
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.cli import at_least, entry_parser, run_main
from common.errors import UserError
from common.paths import find
from detection.ultra import yolo_class
from detection.weights import read_manifest, record, verify
from ocr.data import read_split_file


def export_onnx(weights: Path, imgsz: int, check_sha: bool = True) -> Path:
    """The .onnx beside `weights`; when `weights` is in the manifest, the .onnx digest is recorded there too."""
    if weights.suffix != ".pt":
        raise UserError(f"export needs the detector's trained .pt weights, not {weights.name}")
    if check_sha:
        verify(weights)
    out = weights.with_suffix(".onnx")
    with tempfile.TemporaryDirectory(dir=weights.parent, prefix=".export_") as tmp:
        # exported from a copy in a folder of its own (ultralytics writes beside the weights it is given), then
        # moved into place whole: a stop half-way leaves the .onnx there before, which its digest still matches
        staged = Path(tmp) / weights.name
        shutil.copy2(weights, staged)
        model = yolo_class()(str(staged), task="detect")
        made = Path(model.export(format="onnx", imgsz=imgsz, dynamic=True, simplify=False, opset=17, verbose=False))
        made.replace(out)
    if weights.name in read_manifest(weights.parent / "MANIFEST.sha256"):
        record(out)
    return out


def letterbox(img: np.ndarray, imgsz: int, stride: int = 32) -> np.ndarray:
    """A BGR frame as the detector's input (1, 3, H, W) float32 RGB in [0, 1], letterboxed by ultralytics' own
    `LetterBox` as its rectangular inference does (long side `imgsz`, padded with grey to a multiple of `stride`)."""
    yolo_class()  # ultralytics imported with its offline switches set
    from ultralytics.data.augment import LetterBox

    boxed: np.ndarray = LetterBox(imgsz, auto=True, stride=stride)(image=img)  # type: ignore[assignment]
    return (boxed[:, :, ::-1].transpose(2, 0, 1)[None] / 255.0).astype(np.float32)


def calibration_frames(folder: Path, n: int, exclude: Sequence[Path] = (), seed: int = 0) -> list[Path]:
    """`n` images of `folder` drawn with `seed`, leaving out the image names listed in the split CSVs `exclude`."""
    if not folder.is_dir():
        raise UserError(f"calibration folder not found: {folder}")
    skip = {image for _, image in read_split_file(list(exclude))} if exclude else set()
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png") and p.name not in skip)
    if not files:
        raise UserError(f"no calibration images in {folder}")
    random.Random(seed).shuffle(files)
    return files[:n]


def export_int8(onnx_path: Path, frames: list[Path], imgsz: int, out: Path) -> Path:
    """`onnx_path` as a static int8 model calibrated on `frames` (one at a time, letterboxed to `imgsz`)."""
    from common.quantize import quantize_static_int8
    from ocr.process import read_bgr

    out = quantize_static_int8(onnx_path, out, (letterbox(read_bgr(f), imgsz) for f in frames), ops=("Conv",))
    if onnx_path.name in read_manifest(onnx_path.parent / "MANIFEST.sha256"):
        record(out)
    return out


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = entry_parser(__doc__)
    ap.add_argument("--weights", type=find, default="weights/detector.pt")
    ap.add_argument("--imgsz", type=at_least(32), default=640)
    ap.add_argument("--no-verify", action="store_true", help="skip the SHA-256 manifest check (trusted files only)")
    ap.add_argument("--int8", action="store_true", help="also write <name>_int8.onnx, static int8")
    ap.add_argument("--calib", type=Path, nargs="+", help="--int8: folder(s) of frames to calibrate on (as many from each)")
    ap.add_argument("--exclude", type=Path, nargs="*", default=[], help="--int8: CSVs of images not to calibrate on")
    ap.add_argument("--n-calib", type=at_least(1), default=64, help="--int8: calibration frames in all")
    args = ap.parse_args(argv)

    def work() -> None:
        if args.int8 and not args.calib:
            raise UserError("--int8 needs --calib FOLDER (frames like the ones the detector will see)")
        if (args.calib or args.exclude) and not args.int8:  # else the .onnx beside the weights is re-made, unasked
            raise UserError("--calib and --exclude calibrate the --int8 export: add --int8")
        sibling = args.weights.with_suffix(".onnx")
        if args.int8 and sibling.is_file():  # quantise the shipped export as it is (its digest stays valid)
            out = sibling
        else:
            out = export_onnx(args.weights, args.imgsz, not args.no_verify)
        if args.int8:
            per = max(1, args.n_calib // len(args.calib))
            frames = [f for folder in args.calib for f in calibration_frames(folder, per, args.exclude)]
            out = export_int8(out, frames, args.imgsz, out.with_name(out.stem + "_int8.onnx"))
        logger.info(f"exported {args.weights} -> {out}")

    return run_main(work)


if __name__ == "__main__":
    raise SystemExit(main())
