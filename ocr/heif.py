"""HEIC / HEIF photos (an iPhone's default format, which OpenCV cannot decode), read through pillow-heif where it is
installed (`pip install pillow-heif`, or the project's `heic` extra)."""
from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from common.errors import UserError

HEIF_EXTS = {".heic", ".heif"}

HEIF_HINT = ("reading HEIC/HEIF photos (an iPhone's) needs pillow-heif: pip install pillow-heif (or convert them to "
             "JPEG; an iPhone takes JPEGs with Settings > Camera > Formats > Most Compatible)")

HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avci")


def is_heif(head: bytes) -> bool:
    """Whether a file's first bytes are a HEIF container's (`ftyp` and a HEIF brand; AVIF, which OpenCV reads, is
    not one)."""
    return head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS


def read_heif(source: str | Path | bytes) -> np.ndarray | None:
    """A HEIF photo's primary image as BGR uint8, upright (libheif applies the container's rotation and mirroring);
    None where it does not decode. Without pillow-heif a UserError says how to read it (naming a file given)."""
    try:
        import pillow_heif
    except ImportError:
        raise UserError(f"{source}: {HEIF_HINT}" if isinstance(source, (str, Path)) else HEIF_HINT) from None
    try:
        heif = pillow_heif.open_heif(io.BytesIO(source) if isinstance(source, bytes) else str(source),
                                     convert_hdr_to_8bit=True)
        rgb = np.asarray(heif)
    except Exception:  # noqa: BLE001 - a damaged or cut-short file, however libheif says it: not an image
        return None
    if rgb.ndim == 2:
        return cv2.cvtColor(rgb, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # RGBA too: its alpha dropped


def check_heif_readable(paths: Iterable[Path], where: str | Path) -> None:
    """A UserError before any is read where `paths` hold HEIF photos and pillow-heif is not installed."""
    n = sum(Path(p).suffix.lower() in HEIF_EXTS for p in paths)
    if n and not register_heif_opener():
        raise UserError(f"{where}: {HEIF_HINT}" if Path(where).suffix.lower() in HEIF_EXTS else
                        f"{where}: {n} HEIC/HEIF photo(s): {HEIF_HINT}")


def register_heif_opener() -> bool:
    """Let PIL open HEIF photos (for their EXIF), where pillow-heif is installed; whether it is."""
    try:
        import pillow_heif
    except ImportError:
        return False
    _register(pillow_heif)
    return True


@functools.cache
def _register(pillow_heif: Any) -> None:
    pillow_heif.register_heif_opener()
