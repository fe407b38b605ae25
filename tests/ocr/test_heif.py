"""An iPhone's HEIC photos: read as images wherever images are read, with pillow-heif (the `heic` extra, which the
`dev` extra installs); without it, one line that says how before anything is read."""
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from ocr.heif import is_heif, read_heif
from ocr.process import is_image_file, read_bgr

pillow_heif = pytest.importorskip("pillow_heif")  # installed by the dev extra, so CI runs these

ROOT = Path(__file__).resolve().parents[2]
STILL = ROOT / "samples" / "stills" / "images" / "train_dayride_type1_002_t00061.jpg"


def write_heic(path: Path, bgr: np.ndarray, orientation: int = 0) -> Path:
    """`bgr` saved as a HEIC photo (with an EXIF orientation, which pillow-heif stores as the container's turn)."""
    from PIL import Image

    pillow_heif.register_heif_opener()
    im = Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1]))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    im.save(path, "HEIF", quality=95, exif=exif.tobytes())
    return path


@pytest.fixture
def no_pillow_heif(monkeypatch):
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # `import pillow_heif` raises ImportError


def scene() -> np.ndarray:
    """Three flat blocks of blue, green and red on grey: a swap of channels or a turn shows."""
    img = np.full((48, 96, 3), 128, np.uint8)
    img[8:40, 8:32], img[8:40, 36:60], img[8:40, 64:88] = (200, 40, 40), (40, 200, 40), (40, 40, 200)
    return img


def test_a_heic_photo_is_read_as_the_image_it_holds_in_bgr(tmp_path):
    path = write_heic(tmp_path / "IMG_0001.HEIC", scene())
    img = read_bgr(path)
    assert img.shape == (48, 96, 3) and img.dtype == np.uint8
    assert np.abs(img.astype(int) - scene()).mean() < 4
    assert is_image_file(path) and is_heif(path.read_bytes()[:12])
    assert np.array_equal(read_heif(path.read_bytes()), img)  # bytes as a service receives them


def test_grey_alpha_and_10_bit_heif_photos_are_8_bit_bgr(tmp_path):
    """An iPhone's HDR photo is 10-bit: read in 8 bits, as every other image here."""
    from PIL import Image

    pillow_heif.register_heif_opener()
    Image.fromarray(np.full((48, 96), 77, np.uint8)).save(tmp_path / "grey.heic", quality=95)
    rgba = np.dstack([np.full((48, 96, 3), (200, 40, 40), np.uint8), np.full((48, 96), 255, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.heic", quality=95)
    deep = np.full((48, 96, 3), (50000, 10000, 30000), np.uint16)  # RGB in 16 bits, stored in 10
    pillow_heif.from_bytes(mode="RGB;16", size=(96, 48), data=deep.tobytes()).save(tmp_path / "hdr.heic", quality=95)
    expected = {"grey": (77, 77, 77), "alpha": (40, 40, 200), "hdr": (117, 39, 194)}
    for name, bgr in expected.items():
        img = read_bgr(tmp_path / f"{name}.heic")
        assert img.shape == (48, 96, 3) and img.dtype == np.uint8, name
        assert np.abs(img[24, 48].astype(int) - bgr).max() <= 3, (name, img[24, 48])


def test_a_heic_photo_under_a_jpeg_ending_is_read_by_its_content(tmp_path):
    """A phone app that exports HEIC data named .jpg: read as what it holds."""
    path = write_heic(tmp_path / "a.heic", scene()).rename(tmp_path / "IMG_0001.jpg")
    assert np.abs(read_bgr(path).astype(int) - scene()).mean() < 4 and is_image_file(path)


def test_a_heic_photo_taken_sideways_is_turned_upright_as_a_jpeg_is(tmp_path):
    heic = read_bgr(write_heic(tmp_path / "side.heic", scene(), orientation=6))
    assert heic.shape == (96, 48, 3)
    assert np.abs(heic.astype(int) - cv2.rotate(scene(), cv2.ROTATE_90_CLOCKWISE)).mean() < 4


def test_a_heic_opened_with_pil_is_an_image_handed_over_from_python(tmp_path):
    """`PlateReader`/`Recognizer` take PIL images: pillow-heif's (a class of its own module) was refused as 'not a
    PIL image'; it is the image read_bgr reads, upright once (not turned again by its EXIF)."""
    from PIL import Image

    from ocr.process import as_bgr

    path = write_heic(tmp_path / "side.heic", scene(), orientation=6)
    with Image.open(path) as im:
        assert type(im).__module__.startswith("pillow_heif")
        assert np.array_equal(as_bgr(im), read_bgr(path))


def test_a_heic_or_avif_photo_is_whole_once_its_boxes_are(tmp_path):
    """A watched folder takes a photo once whole: a phone's HEIC, or an AVIF, cut short mid-upload is not."""
    from pipeline.media import ends_whole

    data = write_heic(tmp_path / "a.heic", scene()).read_bytes()
    avif = cv2.imencode(".avif", scene())[1].tobytes()
    for name, whole in (("b.heic", data), ("c.avif", avif)):
        for cut, ok in ((len(whole), True), (len(whole) - 1, False), (len(whole) // 2, False), (40, False)):
            (tmp_path / name).write_bytes(whole[:cut])
            assert ends_whole(tmp_path / name) is ok, (name, cut)


def test_a_damaged_heic_is_the_unreadable_image_error(tmp_path):
    data = write_heic(tmp_path / "a.heic", scene()).read_bytes()
    (tmp_path / "cut.heic").write_bytes(data[:40])
    assert read_heif(tmp_path / "cut.heic") is None and not is_image_file(tmp_path / "cut.heic")
    with pytest.raises(UserError, match=re.escape(f"cannot read image (corrupt or unsupported format): "
                                                  f"{tmp_path / 'cut.heic'}")):
        read_bgr(tmp_path / "cut.heic")
    assert not is_heif(b"\x00\x00\x00\x1cftypavif")  # AVIF, which OpenCV reads, is not taken for one


def test_without_pillow_heif_one_line_says_how_to_read_them(tmp_path, no_pillow_heif):
    from pipeline.sources import open_source

    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic")
    hint = "reading HEIC/HEIF photos (an iPhone's) needs pillow-heif: pip install pillow-heif"
    with pytest.raises(UserError, match=re.escape(f"{path}: {hint}")):
        read_bgr(path)
    with pytest.raises(UserError, match=re.escape(f"{path}: {hint}")):
        open_source(str(path))
    cv2.imwrite(str(tmp_path / "b.jpg"), scene())
    (tmp_path / "c.heif").write_bytes(b"\x00\x00\x00\x18ftypheic")
    with pytest.raises(UserError, match=re.escape(f"{tmp_path}: 2 HEIC/HEIF photo(s): {hint}")):
        open_source(str(tmp_path))  # said before the folder's first image is read, not at its first HEIC


def test_a_folder_of_phone_photos_is_read_heic_and_jpeg_alike(tmp_path):
    from pipeline.sources import open_source

    write_heic(tmp_path / "IMG_0001.HEIC", scene())
    cv2.imwrite(str(tmp_path / "IMG_0002.JPG"), scene())
    source = open_source(str(tmp_path))
    frames = list(source)
    assert [f.source for f in frames] == ["IMG_0001.HEIC", "IMG_0002.JPG"]
    assert all(np.abs(f.image.astype(int) - scene()).mean() < 4 for f in frames)


def test_plate_crops_saved_as_heic_are_training_data_named_by_their_text(tmp_path):
    from ocr.alphabet import Codec
    from ocr.data import read_labels

    write_heic(tmp_path / "AB123CD.heic", scene())
    assert [(s.path.name, s.text) for s in read_labels(tmp_path, Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))] == [
        ("AB123CD.heic", "AB123CD")]


def test_a_heic_photo_says_when_and_where_it_was_taken(tmp_path):
    from pipeline.photo_meta import photo_meta
    from tests.pipeline.test_photo_meta import BUCHAREST, exif_jpeg

    pillow_heif.register_heif_opener()
    data = exif_jpeg(tmp_path / "IMG_0003.HEIC", "2026:12:06 12:30:00", "+02:00", BUCHAREST, fmt="HEIF")
    assert is_heif(data[:12])
    for source in (tmp_path / "IMG_0003.HEIC", data):
        meta = photo_meta(source)
        assert (meta.taken_utc, meta.gps) == ("2026-12-06T10:30:00.000Z", (44.425, 26.1))
    fresh = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from pipeline.photo_meta "
                            "import photo_meta; print(photo_meta(Path(sys.argv[1])).fields())",
                            str(tmp_path / "IMG_0003.HEIC")], cwd=ROOT, capture_output=True, text=True, check=True)
    assert fresh.stdout.strip() == "{'taken_utc': '2026-12-06T10:30:00.000Z', 'gps': [44.425, 26.1]}"  # by itself


@pytest.mark.skipif(not (ROOT / "weights" / "detector.pt").is_file(), reason="no shipped detector")
def test_the_shipped_models_read_the_bundled_still_saved_as_heic(tmp_path):
    """The bundled still as an iPhone would save it: its two plates read from the HEIC as from the JPEG; the HTTP
    service decodes a posted HEIC body to the same image."""
    import csv

    from pipeline.serve import decode_image
    from run_pipeline import main

    (tmp_path / "photos").mkdir()
    heic = write_heic(tmp_path / "photos" / "IMG_0004.HEIC", cv2.imread(str(STILL)))
    assert np.array_equal(decode_image(heic.read_bytes(), "IMG_0004.HEIC"), read_bgr(heic))
    assert main([str(tmp_path / "photos"), f"output_dir={tmp_path / 'out'}", "detector.device=cpu"]) == 0
    with open(tmp_path / "out" / "photos" / "reads.csv", newline="", encoding="utf-8-sig") as f:
        rows = [(r["source"], r["text"]) for r in csv.DictReader(f) if float(r["confidence"]) > 0.5]
    assert sorted(rows) == [("IMG_0004.HEIC", "PH73FAM"), ("IMG_0004.HEIC", "SB014882")]
