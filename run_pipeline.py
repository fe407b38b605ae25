"""The plate reader's main entry point.

Until the video pipeline lands (issue 5), this runs the OCR demo: it reads the bundled plate images in
`samples/plates/` (or the images/folders given) with the shipped recognizer and prints each read.

    python run_pipeline.py                       # bundled samples, weights/ocr_latin.pth
    python run_pipeline.py my_plate.jpg folder/ --weights weights/ocr_digits.pth
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def _images(sources: list[str]) -> list[Path]:
    from common.errors import UserError

    out: list[Path] = []
    for s in sources:
        p = Path(s)
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_EXTS)
        elif p.is_file():
            out.append(p)
        else:
            raise UserError(f"source not found: {p}")
    if not out:
        raise UserError(f"no images in {', '.join(sources)}")
    return out


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    from common.errors import UserError
    from ocr import Recognizer
    from ocr.process import read_bgr

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="*", default=[str(ROOT / "samples" / "plates")])
    ap.add_argument("--weights", default=str(ROOT / "weights" / "ocr_latin.pth"))
    ap.add_argument("--backend", default="torch", choices=("torch", "onnx"))
    ap.add_argument("--out", default="runs/demo/reads.jsonl", help="JSON Lines of the reads")
    args = ap.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, format="<level>{message}</level>")
    try:
        rec = Recognizer.from_checkpoint(args.weights, backend=args.backend)
        paths = _images(args.sources)
        reads = rec([read_bgr(p) for p in paths])
    except UserError as exc:
        logger.error(f"error: {exc}")
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as f:
        for p, r in zip(paths, reads):
            expected = p.stem.split("_")[0]
            mark = "✅" if r.text == expected else "  "
            logger.info(f"{mark} {p.name:28s} -> {r.text:12s} confidence {r.confidence:.2f}")
            f.write(json.dumps({"source": p.name, "text": r.text, "confidence": round(r.confidence, 4),
                                "char_confidences": [round(c, 4) for c in r.char_confidences]}) + "\n")
    logger.info(f"{len(reads)} plates read; reads written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
