"""Make `ocr/hershey_strokes.npz`: OpenCV's six Hershey stroke faces as OpenCV 4 draws them, for the synthetic plates.

    pip install --no-deps --target /tmp/cv4 opencv-python==4.12.0.88
    PYTHONPATH=/tmp/cv4 python bench/hershey_atlas.py [--check]

OpenCV 5 draws `FONT_HERSHEY_*` text in its embedded TrueType font instead of the monoline Hershey strokes, so the
synthetic plates' `stroke` faces (`ocr/synth_glyphs.py: STROKE_FONTS`) would depend on the OpenCV installed. This
script draws each face's characters 0-9 A-Z once with OpenCV 4, as the generator drew them (about 80 px tall, a 2 px
anti-aliased pen, on a 200 x 200 canvas), and keeps each cut to its ink with a 3 px margin, enough for the widest pen
the generator sweeps over it. `--check` compares the stored glyphs with what this OpenCV draws, pen widths and all.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr.synth_glyphs import ATLAS, ATLAS_CHARS, STROKE_FACES, _glyph, atlas_key, ink, widen  # noqa: E402

MARGIN = 3  # the widest pen (5 px) reaches 2 px beyond the line drawn


def draw(face: int, ch: str) -> np.ndarray:
    """The glyph on its 200 x 200 canvas, as the generator drew it before OpenCV 5."""
    scale = 80 / cv2.getTextSize("H", face, 1.0, 1)[0][1]
    img = np.zeros((200, 200), np.uint8)
    cv2.putText(img, ch, (30, 140), face, scale, 255, 2, cv2.LINE_AA)
    return img


def cut(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img)
    y0, x0, y1, x1 = ys.min() - MARGIN, xs.min() - MARGIN, ys.max() + MARGIN + 1, xs.max() + MARGIN + 1
    if y0 < 0 or x0 < 0 or y1 > img.shape[0] or x1 > img.shape[1]:
        raise SystemExit("error: a glyph runs within 3 px of its canvas's edge")
    return img[y0:y1, x0:x1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="compare the stored glyphs with this OpenCV's")
    args = p.parse_args()
    if int(cv2.__version__.split(".")[0]) >= 5:
        print(f"error: OpenCV {cv2.__version__} draws its Hershey faces in a TrueType font; run this with "
              "opencv-python<5 (see the docstring)", file=sys.stderr)
        return 2
    if args.check:
        bad = 0
        for face in STROKE_FACES:
            for ch in ATLAS_CHARS:
                for stroke in range(3):  # the generator's glyph against OpenCV 4's, drawn and widened alike
                    bad += not np.array_equal(_glyph(f"hershey:{face}", ch, stroke), ink(widen(draw(face, ch), stroke)))
        print(f"OpenCV {cv2.__version__}: {len(STROKE_FACES) * len(ATLAS_CHARS) * 3 - bad} glyphs the same, "
              f"{bad} different")
        return 1 if bad else 0
    glyphs = {atlas_key(face, ch): cut(draw(face, ch)) for face in STROKE_FACES for ch in ATLAS_CHARS}
    np.savez_compressed(ATLAS, **glyphs)
    print(f"{ATLAS.relative_to(ROOT)}: {len(glyphs)} glyphs drawn by OpenCV {cv2.__version__}, "
          f"{ATLAS.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
