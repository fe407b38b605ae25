"""Export the detector to ONNX with ultralytics' own exporter (for faster CPU inference).

    python detection/export.py --weights weights/detector.pt --imgsz 640
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import argparse
from pathlib import Path

from common.errors import UserError
from detection.ultra import yolo_class
from detection.weights import read_manifest, record, verify


def export_onnx(weights: Path, imgsz: int, check_sha: bool = True) -> Path:
    """The .onnx beside `weights`; when `weights` is in the manifest, the .onnx digest is recorded there too."""
    if check_sha:
        verify(weights)
    model = yolo_class()(str(weights), task="detect")
    out = Path(model.export(format="onnx", imgsz=imgsz, dynamic=True, simplify=False, opset=17, verbose=False))
    if weights.name in read_manifest(weights.parent / "MANIFEST.sha256"):
        record(out)
    return out


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=Path("weights/detector.pt"))
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--no-verify", action="store_true", help="skip the SHA-256 manifest check (trusted files only)")
    args = ap.parse_args(argv)
    from common.cli import setup_logging

    setup_logging()
    try:
        out = export_onnx(args.weights, args.imgsz, not args.no_verify)
    except UserError as exc:
        logger.error(f"error: {exc}")
        return 2
    logger.info(f"exported {args.weights} -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
