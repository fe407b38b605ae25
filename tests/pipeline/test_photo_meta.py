import io
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.photo_meta import PhotoMeta, photo_meta

ROOT = Path(__file__).resolve().parents[2]


def exif_jpeg(path=None, taken="", offset="", gps=None, gps_time=None, base=None, fmt="JPEG"):
    """A JPEG (of `base`'s pixels, or grey; a HEIF photo with fmt="HEIF") whose EXIF holds a local time taken and its
    offset, a GPS place ((lat_ref, (d, m, s), lon_ref, (d, m, s))) and GPS's UTC date and time; its bytes, written to
    `path` when given."""
    im = Image.open(base).convert("RGB") if base is not None else Image.new("RGB", (64, 48), (90, 90, 90))
    exif = im.getexif()
    shot = exif.get_ifd(0x8769)
    if taken:
        shot[0x9003] = taken
    if offset:
        shot[0x9011] = offset
    if gps or gps_time:
        g = exif.get_ifd(0x8825)
        if gps:
            g[1], g[2], g[3], g[4] = gps
        if gps_time:
            g[29], g[7] = gps_time
    buf = io.BytesIO()
    im.save(buf, fmt, exif=exif)
    if path is not None:
        Path(path).write_bytes(buf.getvalue())
    return buf.getvalue()


BUCHAREST = ("N", (44.0, 25.0, 30.0), "E", (26.0, 6.0, 0.0))


@pytest.mark.parametrize("kw, taken, gps", [
    (dict(taken="2026:12:06 12:30:00", offset="+02:00", gps=BUCHAREST), "2026-12-06T10:30:00.000Z", (44.425, 26.1)),
    (dict(taken="2026:12:06 07:30:05", offset="-05:00"), "2026-12-06T12:30:05.000Z", None),
    # a camera that writes no offset: its local time is no UTC time, GPS's is
    (dict(taken="2026:12:06 12:30:00", gps=("S", (33.0, 52.0, 0.0), "W", (151.0, 12.0, 36.0)),
          gps_time=("2026:12:06", (10.0, 30.0, 15.5))), "2026-12-06T10:30:15.500Z", (-33.866667, -151.21)),
    (dict(taken="2026:12:06 12:30:00"), "", None),
    (dict(gps=("N", (0.0, 0.0, 0.0), "E", (0.0, 0.0, 0.0))), "", None),  # a receiver without a fix
    (dict(taken="0000:00:00 00:00:00", offset="+01:00", gps=("N", (95.0, 0.0, 0.0), "E", (26.0, 0.0, 0.0))), "", None),
    (dict(taken="2026:12:06 12:30:00", offset="+1", gps_time=("2026:12:06", (25.0, 0.0, 0.0))), "", None),
    (dict(gps_time=("2026:12:06", (0.0, 0.0, 0.0)), gps=("N", (90.0, 0.0, 0.0), "W", (180.0, 0.0, 0.0))),
     "2026-12-06T00:00:00.000Z", (90.0, -180.0)),  # midnight; the pole and the date line are places
    (dict(gps_time=("2026:12:06", (24.0, 0.0, 0.0)), gps=("N", (10.0, 0.0, 0.0), "E", (180.0, 0.0, 1.0))), "", None),
    ({}, "", None),
])
def test_when_and_where_a_photo_was_taken_is_read_from_its_exif(tmp_path, kw, taken, gps):
    body = exif_jpeg(tmp_path / "a.jpg", **kw)
    assert photo_meta(tmp_path / "a.jpg") == photo_meta(body) == PhotoMeta(taken, gps)


def test_a_cameras_time_without_its_offset_is_read_in_the_offset_given(tmp_path):
    """A camera that writes no offset: its time taken in the clock's offset the user gives; without one, none. A
    phone's own offset and GPS's UTC time come first."""
    from datetime import timedelta

    plus1 = timedelta(hours=1)
    body = exif_jpeg(None, "2026:12:06 12:30:00")
    assert (photo_meta(body).taken_utc, photo_meta(body, plus1).taken_utc) == ("", "2026-12-06T11:30:00.000Z")
    assert photo_meta(body, timedelta(hours=-5, minutes=-30)).taken_utc == "2026-12-06T18:00:00.000Z"
    assert photo_meta(exif_jpeg(None, "2026:12:06 12:30:00", "+02:00"), plus1).taken_utc == "2026-12-06T10:30:00.000Z"
    assert photo_meta(exif_jpeg(None, "2026:12:06 12:30:00", gps_time=("2026:12:06", (12.0, 29.0, 59.0))),
                      plus1).taken_utc == "2026-12-06T12:29:59.000Z"
    assert photo_meta(exif_jpeg(None, "2026:13:06 12:30:00"), plus1).taken_utc == ""  # no such date
    assert photo_meta(exif_jpeg(None), plus1).taken_utc == ""


def test_a_108_mp_phone_photo_is_read_without_pils_bomb_warning_and_one_past_pils_limit_has_none(tmp_path):
    """Only the header is read: PIL's warning of a decompression bomb (over 89 MP) is for decoding."""
    import struct
    import warnings

    body = exif_jpeg(None, "2026:12:06 12:30:00", "+02:00")
    sof = body.index(b"\xff\xc0")

    def sized(w, h):  # the same photo, its frame header giving w x h px
        return body[:sof + 5] + struct.pack(">HH", h, w) + body[sof + 9:]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert photo_meta(sized(12000, 9000)).taken_utc == "2026-12-06T10:30:00.000Z"
    assert [w.category.__name__ for w in caught] == []
    assert photo_meta(sized(20000, 10000)) == PhotoMeta()  # 200 MP: PIL opens none over 179 MP


def test_a_place_that_is_not_a_number_is_none():
    from pipeline.photo_meta import _place

    nan = float("nan")
    assert _place({2: (nan, 0, 0), 4: (26, 0, 0)}) is None and _place({2: (44, 0, 0), 4: (nan, 0, 0)}) is None
    assert _place({2: (44, 0, 0), 4: (0, 0, 0)}) == (44.0, 0.0)  # the prime meridian is a place


def test_an_image_without_exif_or_no_image_has_none(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00\xff\xff")  # EXIF cut short
    (tmp_path / "c.jpg").write_bytes(b"not an image")
    for source in (tmp_path / "a.png", tmp_path / "b.jpg", tmp_path / "c.jpg", tmp_path / "gone.jpg", b""):
        assert photo_meta(source) == PhotoMeta()


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_a_photos_reads_carry_when_and_where_it_was_taken_and_the_search_finds_it_then(tmp_path):
    """A phone's photo copied days later: its file's time is the copy's, its EXIF says when and where it was taken;
    the reads carry both, and the search finds the plate on the day it was taken, at its place."""
    import json

    from pipeline.search import find
    from run_pipeline import main as run

    photos = tmp_path / "phone"
    photos.mkdir()
    exif_jpeg(photos / "IMG_0001.jpg", "2026:12:01 11:00:00", "+01:00", BUCHAREST,
              base=ROOT / "samples" / "plates" / "RXP7820_0.jpg")
    shutil.copy(ROOT / "samples" / "plates" / "RXP7820_0.jpg", photos / "plain.jpg")
    copied = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc).timestamp()
    for f in photos.iterdir():
        os.utime(f, (copied, copied))
    assert run(["--crops", str(photos), f"output_dir={tmp_path / 'out'}"]) == 0
    lines = [json.loads(x) for x in (tmp_path / "out" / "phone" / "reads.jsonl").read_text().splitlines()]
    assert [(x["source"], x["file_time_utc"], x["taken_utc"], x["gps"]) for x in lines] == [
        ("IMG_0001.jpg", "2026-12-05T09:00:00.000Z", "2026-12-01T10:00:00.000Z", [44.425, 26.1]),
        ("plain.jpg", "2026-12-05T09:00:00.000Z", "", None)]
    rows = (tmp_path / "out" / "phone" / "reads.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[1].startswith("IMG_0001.jpg,2026-12-05T09:00:00.000Z,2026-12-01T10:00:00.000Z,44.425,26.1,0,0,")
    assert rows[2].startswith("plain.jpg,2026-12-05T09:00:00.000Z,,,,0,0,")
    hits, _ = find("*", [tmp_path / "out"], since="2026-12-01", until="2026-12-01")
    assert [(s.source, s.seen_utc, s.at.split(" at ")[-1]) for s in hits] == [
        ("IMG_0001.jpg", "2026-12-01T10:00:00.000Z", "44.425,26.1")]


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_a_cameras_photos_are_read_in_the_clocks_offset_given_and_a_bad_one_is_one_line(tmp_path, capsys):
    from run_pipeline import main as run

    photos = tmp_path / "camera"
    photos.mkdir()
    exif_jpeg(photos / "DSC_0001.jpg", "2026:12:01 11:00:00", base=ROOT / "samples" / "plates" / "RXP7820_0.jpg")
    assert run(["--crops", str(photos), f"output_dir={tmp_path / 'out'}", "photo_utc_offset=-03:00"]) == 0
    table = (tmp_path / "out" / "camera" / "reads.csv").read_text(encoding="utf-8-sig")
    assert table.splitlines()[1].split(",")[2] == (
        "2026-12-01T14:00:00.000Z")
    capsys.readouterr()
    assert run(["--crops", str(photos), f"output_dir={tmp_path / 'out2'}", "photo_utc_offset=UTC-3"]) == 2
    assert capsys.readouterr().err.strip() == ("error: config key 'photo_utc_offset': 'UTC-3' is not an offset from "
                                               "UTC (+01:00, -05:00, -5)")
