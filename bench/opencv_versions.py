"""What the synthetic generator draws under one OpenCV against another.

    python bench/opencv_versions.py record OUT.npz           # under each OpenCV (PYTHONPATH=/tmp/cv4 for OpenCV 4)
    python bench/opencv_versions.py compare A.npz B.npz

`record` keeps, for this OpenCV, a digest of every layout's plates (30 seeds, in the TrueType, stroke and plate
faces) and the results of the image operations the generator and its degradations use, on one fixed image.
`compare` names what differs and by how much.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocr.synth_glyphs import char_fonts  # noqa: E402
from ocr.synth_render import RENDERERS  # noqa: E402


def operations() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (90, 300, 3), dtype=np.uint8), (5, 5), 0)
    homography = np.array([[1.01, 0.02, 3], [0.01, 0.99, -2], [1e-4, 2e-5, 1]])
    line = np.array([[3, 4], [80, 70], [200, 10]], np.int32)
    return {
        "warpPerspective": cv2.warpPerspective(img, homography, (300, 90), borderMode=cv2.BORDER_REPLICATE),
        "warpAffine": cv2.warpAffine(img, homography[:2], (300, 90)),
        "resize_area": cv2.resize(img, (113, 37), interpolation=cv2.INTER_AREA),
        "resize_linear": cv2.resize(img, (113, 37), interpolation=cv2.INTER_LINEAR),
        "resize_cubic": cv2.resize(img, (613, 187), interpolation=cv2.INTER_CUBIC),
        "GaussianBlur": cv2.GaussianBlur(img, (0, 0), 1.3),
        "filter2D": cv2.filter2D(img, -1, np.ones((1, 7), np.float32) / 7),
        "medianBlur": cv2.medianBlur(img, 3),
        "jpeg": cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 30])[1], cv2.IMREAD_COLOR),
        "gray": cv2.cvtColor(img, cv2.COLOR_BGR2GRAY),
        "hsv": cv2.cvtColor(img, cv2.COLOR_BGR2HSV),
        "circle": cv2.circle(img.copy(), (50, 40), 17, (1, 2, 3), -1, cv2.LINE_AA),
        "polylines": cv2.polylines(img.copy(), [line], False, (9, 9, 9), 3, cv2.LINE_AA),
        "ellipse": cv2.ellipse(img.copy(), (150, 45), (60, 20), 0, 0, 360, (5, 5, 5), -1),
        "dilate": cv2.dilate(img, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))),
    }


def plates() -> np.ndarray:
    """One digest (16 bytes) per plate: every layout, 30 seeds, in three sets of faces."""
    digests = []
    for name, render in RENDERERS.items():
        for fonts in ("ttf", "stroke", "plate"):
            rng = np.random.default_rng(11)
            for _ in range(30):
                image = render(rng, char_fonts(fonts)).image
                digests.append(np.frombuffer(hashlib.md5(image.tobytes()).digest(), np.uint8))
    return np.stack(digests)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("record").add_argument("out", type=Path)
    both = sub.add_parser("compare")
    both.add_argument("a", type=Path)
    both.add_argument("b", type=Path)
    args = p.parse_args()
    if args.cmd == "record":
        np.savez_compressed(args.out, version=np.array(cv2.__version__), plates=plates(), **operations())
        print(f"{args.out}: OpenCV {cv2.__version__}")
        return 0
    a, b = np.load(args.a, allow_pickle=False), np.load(args.b, allow_pickle=False)
    print(f"OpenCV {a['version']} against {b['version']}")
    same = (a["plates"] == b["plates"]).all(axis=1)
    print(f"rendered plates: {int(same.sum())} of {len(same)} the same")
    for key in a.files:
        if key in ("version", "plates"):
            continue
        diff = np.abs(a[key].astype(int) - b[key].astype(int))
        print(f"{key}: " + ("the same" if not diff.any() else
                            f"up to {diff.max()} apart, on {100 * (diff > 0).mean():.1f} % of values"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
