"""When and where a photo was taken, from its EXIF: a phone's photo of a parked car says both, where the file's own
time is when it was copied as often as when it was taken."""
from __future__ import annotations

import io
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from ocr.heif import HEIF_EXTS, is_heif, register_heif_opener
from pipeline.types import utc_iso

EXIF_IFD, GPS_IFD = 0x8769, 0x8825  # the EXIF and GPS directories' tags
DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011  # local time taken, and its offset (EXIF 2.31)
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_TIME, GPS_DATE = 1, 2, 3, 4, 7, 29


@dataclass(frozen=True)
class PhotoMeta:
    """`taken_utc`: when the photo was taken (ISO UTC), "" where its EXIF does not say so with an offset or by GPS;
    `gps`: (latitude, longitude) in degrees, None where it holds none."""
    taken_utc: str = ""
    gps: tuple[float, float] | None = None

    def fields(self) -> dict[str, Any]:
        """As a read's JSON carries it (`reads.jsonl`, the webhook's lines, the service's answer)."""
        return {"taken_utc": self.taken_utc, "gps": list(self.gps) if self.gps else None}


@contextmanager
def header(source: Path | bytes) -> Iterator[Any]:
    """PIL's image of a file or of an image's bytes, with only its header read (size, EXIF): PIL's warning of a
    possible decompression bomb (over 89 MP: a 108 MP phone photo) is for decoding, which this is not, and is not
    given; PIL's refusal past 179 MP (`Image.DecompressionBombError`) stays. Whatever else PIL raises passes."""
    from PIL import Image

    if is_heif(source[:12]) if isinstance(source, bytes) else source.suffix.lower() in HEIF_EXTS:
        register_heif_opener()  # a phone's HEIC photo carries its EXIF too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    with im:
        yield im


def photo_meta(source: Path | bytes, clock: timedelta | None = None) -> PhotoMeta:
    """The EXIF time and place of an image file or of an image's bytes (only its header is read); empty for an image
    without them, or one PIL cannot open. `clock`: the offset from UTC of a camera's clock, for a time taken written
    without its own (`photo_utc_offset`)."""
    try:
        with header(source) as im:
            exif = im.getexif()
            shot, gps = dict(exif.get_ifd(EXIF_IFD)), dict(exif.get_ifd(GPS_IFD))
    except Exception:  # noqa: BLE001 - EXIF is written by many makers, some wrongly: whatever PIL raises, none
        return PhotoMeta()
    return PhotoMeta(_taken(shot, gps, clock), _place(gps))


def _text(value: Any) -> str:
    return (value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)).strip("\x00 ")


def _taken(shot: dict, gps: dict, clock: timedelta | None = None) -> str:
    """The time taken with its offset (phones since about 2017 write it), else GPS's UTC date and time, else the time
    taken in the `clock` offset given (a camera that writes none)."""
    try:
        when = datetime.strptime(f"{_text(shot[DATE_TIME_ORIGINAL])} {_text(shot[OFFSET_TIME_ORIGINAL])}",
                                 "%Y:%m:%d %H:%M:%S %z")
        return utc_iso(when.timestamp())
    except (KeyError, ValueError, TypeError):
        pass
    try:
        day = datetime.strptime(_text(gps[GPS_DATE]), "%Y:%m:%d").replace(tzinfo=timezone.utc)
        h, m, s = (float(v) for v in gps[GPS_TIME])
        seconds = h * 3600 + m * 60 + s
        if 0 <= seconds < 86400:
            return utc_iso(day.timestamp() + seconds)
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        pass
    try:
        local = datetime.strptime(_text(shot[DATE_TIME_ORIGINAL]), "%Y:%m:%d %H:%M:%S")
        return utc_iso(local.replace(tzinfo=timezone(clock)).timestamp()) if clock is not None else ""
    except (KeyError, ValueError, TypeError):
        return ""


def _degrees(value: Any) -> float:
    d, m, s = (float(v) for v in value)
    return d + m / 60 + s / 3600


def _place(gps: dict) -> tuple[float, float] | None:
    """(latitude, longitude) from GPS's degrees, minutes and seconds and their N/S, E/W; None where they are missing
    or no place (out of range, or 0, 0: a receiver without a fix)."""
    try:
        lat = _degrees(gps[GPS_LAT]) * (-1 if _text(gps.get(GPS_LAT_REF, "N")).upper() == "S" else 1)
        lon = _degrees(gps[GPS_LON]) * (-1 if _text(gps.get(GPS_LON_REF, "E")).upper() == "W" else 1)
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180 or lat == lon == 0:
        return None
    return round(lat, 6), round(lon, 6)
