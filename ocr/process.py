"""Pure cv2/numpy pre- and post-processing shared by training, inference and export."""
from __future__ import annotations

import errno
import functools
import sys
from pathlib import Path
from typing import cast

import cv2
import numpy as np

from common.errors import UserError
from common.paths import find
from ocr.heif import HEIF_EXTS, is_heif, read_heif

# images by their files' endings: besides JPEG, PNG, BMP, WebP and TIFF, a browser's JPEG saved as .jfif or .jpe, a
# traffic camera's JPEG 2000, AVIF, and a machine-vision camera's PGM / PPM / PNM, all of which OpenCV decodes, and
# an iPhone's HEIC, which pillow-heif does (ocr/heif.py)
IMAGE_EXTS = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".webp", ".tif", ".tiff", ".jp2", ".avif", ".pgm",
              ".ppm", ".pnm"} | HEIF_EXTS


def cv_refusal(exc: cv2.error) -> str:
    """Why OpenCV refused to decode an image, in words: mostly that it holds more pixels than OpenCV reads
    (`OPENCV_IO_MAX_IMAGE_PIXELS`, 1 gigapixel unless set), which it says as a failed assertion."""
    if "MAX_IMAGE_PIXELS" in str(exc):
        return "more pixels than OpenCV reads, 1 gigapixel unless OPENCV_IO_MAX_IMAGE_PIXELS is set"
    return str(exc).strip().splitlines()[-1].strip()


def read_bgr(path: str | Path) -> np.ndarray:
    """Read an image as a BGR uint8 array; a clear UserError if missing or unreadable."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"image not found: {p}")
    if p.suffix.lower() in HEIF_EXTS:
        img = read_heif(p)
    else:
        try:
            img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        except cv2.error as exc:
            raise UserError(f"cannot read image ({cv_refusal(exc)}): {p}") from None
        if img is None and is_heif(_head(p)):  # a HEIC under another ending (a phone app's export)
            img = read_heif(p)
    if img is None or img.size == 0:
        raise UserError(f"cannot read image (corrupt or unsupported format): {p}")
    return img


def write_image(path: str | Path, image: np.ndarray, quality: int = 95) -> None:
    """Write `image` in the format `path`'s suffix names (a JPEG of `quality`). cv2 tells a failure (a full disk, a
    folder gone) only by returning False: here it is an OSError naming the file, which an entry point prints as one
    line."""
    jpeg = Path(path).suffix.lower() in (".jpg", ".jpeg")
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, quality] if jpeg else []):
        raise OSError(errno.EIO, "the image could not be written (a full disk?)", str(path))


# how the formats cv2 reads most often begin: a file that begins otherwise is decoded to tell whether it is an image
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00", b"MM\x00*")


def _head(path: str | Path) -> bytes:
    """A file's first bytes, enough to tell the formats read apart."""
    with open(path, "rb") as f:
        return f.read(12)


def is_image_file(path: str | Path) -> bool:
    """Whether `path` holds an image cv2 (or, for HEIF, pillow-heif) can read, told cheaply by the first bytes of the
    common formats (JPEG, PNG, BMP, TIFF, WebP) and by decoding any other file (an empty file, a text or a video is
    not one)."""
    head = _head(path)
    if head.startswith(_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return True
    if is_heif(head):
        return read_heif(path) is not None
    try:
        return bool(head) and cv2.imread(str(path), cv2.IMREAD_COLOR) is not None
    except cv2.error:  # an image, too large to decode: reading it says so
        return True


def dataset_image(labels_csv: str | Path, name: str) -> Path:
    """Where the image of a labels.csv row is: `images/<name>` beside the CSV (the layout of ../shared/data), else
    `<name>` itself relative to the CSV's folder (a column that reads `images/a.jpg`, images beside the CSV, or an
    absolute path; `\\` read as `/` where the name is not found as written; a name written in another case than the
    file's, as on Windows and macOS, whose disks do not tell them apart, where one file alone matches). A missing
    image is reported at the first place. The CSV is looked for as `common.paths.find` does (a config's path relative
    to the project, from any folder)."""
    root = find(labels_csv).parent
    first = root / "images" / name
    if first.is_file():
        return first
    other = root / name
    if other.is_file():
        return other
    if "\\" in name:
        found = dataset_image(labels_csv, name.replace("\\", "/"))  # written on Windows: images\a.jpg
        if found.is_file():
            return found
    return next((f for f in (_any_case(first), _any_case(other)) if f is not None), first)


def _any_case(path: Path) -> Path | None:
    """The one file in `path`'s folder whose name is `path`'s in another case (`Car1.JPG` for `car1.jpg`); None
    where there is none or more than one."""
    matches = [f for f in _listing(path.parent) if f.name.lower() == path.name.lower()]
    return matches[0] if len(matches) == 1 else None


def _listing(folder: Path) -> list[Path]:
    """The files of `folder`, listed once per folder and change (a data set's thousands of rows, one listing)."""
    try:
        return _listed(folder, folder.stat().st_mtime_ns)
    except OSError:
        return []


@functools.lru_cache(maxsize=16)
def _listed(folder: Path, mtime_ns: int) -> list[Path]:
    return sorted(folder.iterdir())


def as_bgr(image: object, what: str = "an image", rgb: bool = False) -> np.ndarray:
    """An image handed over from Python, checked and made H x W x 3 uint8 BGR (grey, H x W x 1 and BGRA converted;
    with `rgb`, an array's colours taken as RGB or RGBA, as PIL, imageio and picamera2's default XBGR8888 give them;
    a PIL image turned upright by its EXIF orientation, as cv2.imread does, and from RGB); anything else (not an
    array, empty, another layout, float or 16-bit values) is a UserError saying so."""
    pil = sys.modules.get("PIL.Image")  # loaded where a PIL image was made: Image.open(...), pillow-heif's HEIC too
    if pil is not None and isinstance(image, pil.Image):
        from PIL import Image, ImageOps

        upright = ImageOps.exif_transpose(cast(Image.Image, image))
        image, rgb = np.ascontiguousarray(np.asarray(upright.convert("RGB"))[:, :, ::-1]), False
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0 or (
            image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        shown = f"an array of shape {image.shape}" if isinstance(image, np.ndarray) else f"a {type(image).__name__}"
        raise UserError(f"{what} must be an H x W (x 3) BGR image array (or a PIL image), not {shown}")
    if image.dtype != np.uint8:
        raise UserError(f"{what} must hold 8-bit values (uint8, as cv2.imread gives), not {image.dtype}: convert it, "
                        "e.g. (x * 255).astype(np.uint8) for floats in 0-1")
    if rgb and image.ndim == 3 and image.shape[2] in (3, 4):
        return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)  # RGBA's alpha dropped too
    return to_bgr(image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image)


TURNS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def turn(image: np.ndarray, degrees: int) -> np.ndarray:
    """`image` turned clockwise by `degrees` (0, 90, 180 or 270: the pipeline's `rotate`, a camera mounted upside
    down or on its side)."""
    return cv2.rotate(image, TURNS[degrees]) if degrees else image


def to_bgr(img: np.ndarray) -> np.ndarray:
    """Grey or BGRA -> BGR uint8."""
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return img


def greyscale(img: np.ndarray) -> np.ndarray:
    """BGR -> the same image in grey, still BGR (three equal channels): a monochrome camera's view."""
    return to_bgr(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))


def _stretch(img: np.ndarray, height: int, width: int) -> np.ndarray:
    h, w = img.shape[:2]
    interp = cv2.INTER_AREA if (h > height and w > width) else cv2.INTER_LINEAR
    return cv2.resize(img, (width, height), interpolation=interp)


ROW_OVERLAP = 0.02  # each row of a two-row crop reaches this share of the height past the cut


def row_gap(img: np.ndarray) -> int:
    """The row index between the two text rows of a two-row plate: the least horizontal-gradient energy in the
    middle 35-65 % of the height (the gap between the rows; character strokes are rich in vertical edges)."""
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    if grey.shape[1] < 2:  # a crop one pixel wide has no horizontal gradient: the middle
        return len(grey) // 2
    energy = np.abs(np.diff(grey, axis=1)).mean(axis=1)
    k = max(1, len(energy) // 20)
    energy = np.convolve(energy, np.ones(k) / k, mode="same")
    lo, hi = int(len(energy) * 0.35), int(len(energy) * 0.65) + 1
    return lo + int(np.argmin(energy[lo:hi]))


def plate_rows(h: int, w: int, two_row_aspect: float) -> int:
    """2 when a crop of h x w pixels is read as a two-row plate (narrower than `two_row_aspect` x h), else 1."""
    return 2 if two_row_aspect > 0 and w < two_row_aspect * h and h >= 8 else 1


def resize_plate(img: np.ndarray, height: int = 64, width: int = 200, two_row_aspect: float = 0.0) -> np.ndarray:
    """Stretch a BGR crop to height x width (area filter when shrinking, linear when enlarging).

    A crop narrower than `two_row_aspect` x its height (0 = never) is a two-row plate (motorcycles): it is cut
    at the gap between the rows (`row_gap`) and the two rows, stretched to half the width each, are set side
    by side, so the one-line reader reads the top row, then the bottom row."""
    img = to_bgr(img)
    h, w = img.shape[:2]
    if plate_rows(h, w, two_row_aspect) == 2:
        cut, reach = row_gap(img), int(round(h * ROW_OVERLAP))
        half = width // 2
        return np.hstack([_stretch(img[:cut + reach], height, half), _stretch(img[cut - reach:], height, width - half)])
    return _stretch(img, height, width)


def normalize(img: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 BGR -> 3 x H x W float32 in [-1, 1]."""
    x = img.astype(np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def preprocess_batch(crops: list[np.ndarray], height: int = 64, width: int = 200,
                     two_row_aspect: float = 0.0) -> np.ndarray:
    """List of BGR crops of any size -> B x 3 x height x width float32 (two-row crops unfolded, see resize_plate)."""
    if not crops:
        return np.zeros((0, 3, height, width), np.float32)
    return np.stack([normalize(resize_plate(c, height, width, two_row_aspect)) for c in crops])


def fold_o0(text: str) -> str:
    """Fold the letter O onto the digit 0 (many US states never issue O)."""
    return text.replace("O", "0")
