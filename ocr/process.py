"""Pure cv2/numpy pre- and post-processing shared by training, inference and export."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from common.errors import UserError

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def read_bgr(path: str | Path) -> np.ndarray:
    """Read an image as a BGR uint8 array; a clear UserError if missing or unreadable."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"image not found: {p}")
    img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise UserError(f"cannot read image (corrupt or unsupported format): {p}")
    return img


def to_bgr(img: np.ndarray) -> np.ndarray:
    """Grey or BGRA -> BGR uint8."""
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def resize_plate(img: np.ndarray, height: int = 64, width: int = 200) -> np.ndarray:
    """Stretch a BGR crop to height x width (area filter when shrinking, linear when enlarging)."""
    img = to_bgr(img)
    h, w = img.shape[:2]
    interp = cv2.INTER_AREA if (h > height and w > width) else cv2.INTER_LINEAR
    return cv2.resize(img, (width, height), interpolation=interp)


def normalize(img: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 BGR -> 3 x H x W float32 in [-1, 1]."""
    x = img.astype(np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def preprocess_batch(crops: list[np.ndarray], height: int = 64, width: int = 200) -> np.ndarray:
    """List of BGR crops of any size -> B x 3 x height x width float32."""
    if not crops:
        return np.zeros((0, 3, height, width), np.float32)
    return np.stack([normalize(resize_plate(c, height, width)) for c in crops])


def fold_o0(text: str) -> str:
    """Fold the letter O onto the digit 0 (many US states never issue O)."""
    return text.replace("O", "0")
