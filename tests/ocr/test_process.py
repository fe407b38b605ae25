import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from ocr.alphabet import Codec
from ocr.checkpoint import model_from_checkpoint
from ocr.data import build_dataset
from ocr.model import CRNN, ModelConfig
from ocr.process import normalize, preprocess_batch, resize_plate, row_gap
from ocr.recognizer import Recognizer


def two_row_plate(gap: tuple[int, int] = (52, 66), size: int = 120) -> np.ndarray:
    """A square plate: red vertical strokes in the top row, green ones in the bottom row, a flat gap between."""
    img = np.full((size, size, 3), 128, np.uint8)
    for x in range(8, size - 8, 12):
        cv2.rectangle(img, (x, 8), (x + 5, gap[0]), (0, 0, 255), -1)
        cv2.rectangle(img, (x, gap[1]), (x + 5, size - 8), (0, 255, 0), -1)
    return img


def test_row_gap_is_between_the_rows():
    assert 52 <= row_gap(two_row_plate((52, 66))) <= 66
    assert 44 <= row_gap(two_row_plate((44, 58))) <= 58  # rows not centred: the cut follows the gap


def test_a_crop_one_pixel_wide_is_cut_in_the_middle_without_a_warning(recwarn):
    line = np.full((5000, 1, 3), 128, np.uint8)  # a detector's sliver, or such an image given as a crop
    assert row_gap(line) == 2500
    assert resize_plate(line, 64, 200, two_row_aspect=1.5).shape == (64, 200, 3)
    assert not recwarn.list  # numpy's "Mean of empty slice" warnings reached the console


def test_two_row_crop_is_read_top_row_then_bottom_row():
    out = resize_plate(two_row_plate(), 64, 200, two_row_aspect=1.5)
    assert out.shape == (64, 200, 3)
    left, right = out[:, :100].reshape(-1, 3).mean(0), out[:, 100:].reshape(-1, 3).mean(0)
    assert left[2] > left[1] + 40  # top row (red) on the left
    assert right[1] > right[2] + 40  # bottom row (green) on the right


def test_single_row_crops_and_the_switched_off_layout_are_plain_stretches():
    plate = two_row_plate()
    wide = cv2.resize(plate, (200, 100))  # aspect 2.0 >= 1.5: one row
    assert np.array_equal(resize_plate(wide, 64, 200, 1.5), resize_plate(wide, 64, 200))
    plain = cv2.resize(plate, (200, 64), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(resize_plate(plate, 64, 200, 0.0), plain)


def test_recognizer_and_training_data_unfold_alike(tmp_path):
    plate = two_row_plate()
    expected = preprocess_batch([plate], 64, 200, 1.5)
    seen = []
    cfg = ModelConfig(alphabet="0123456789", two_row_aspect=1.5)
    rec = Recognizer(cfg, lambda x: seen.append(x) or np.zeros((len(x), 50, 11), np.float32))
    rec.probs([plate])
    assert np.array_equal(seen[0], expected)
    assert rec.rows(plate) == 2 and rec.rows(cv2.resize(plate, (200, 100))) == 1  # the layout fusion groups by
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "a.png"), plate)
    (tmp_path / "labels.csv").write_text("image,plate_text\na.png,123\n")
    ds = build_dataset(({"path": str(tmp_path)},), Codec("0123456789"), 64, 200, mixed=False, two_row_aspect=1.5)
    assert np.array_equal(ds[0][0].numpy(), normalize(resize_plate(plate, 64, 200, 1.5)))


def test_checkpoints_without_the_layout_key_load_as_one_row():
    model = CRNN(ModelConfig(alphabet="0123456789", width_mult=0.125, hidden=16))
    config = {k: getattr(model.cfg, k) for k in model.cfg.__dataclass_fields__ if k != "two_row_aspect"}
    loaded = model_from_checkpoint({"model_state_dict": model.state_dict(), "model_config": config})
    assert loaded.cfg.two_row_aspect == 0.0


def test_normalize_maps_0_255_to_minus_1_1_channels_first():
    """The contract between training, inference and every export: uint8 BGR -> float32 in [-1, 1], C x H x W."""
    x = normalize(np.array([[[0, 128, 255], [51, 102, 204]]], np.uint8))
    assert x.shape == (3, 1, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0, 0], [-1.0, 128 / 127.5 - 1, 1.0], atol=1e-6)
    np.testing.assert_allclose(x[:, 0, 1], [-0.6, -0.2, 0.6], atol=1e-6)


def test_preprocess_batch_shapes_and_values():
    assert preprocess_batch([]).shape == (0, 3, 64, 200)
    assert preprocess_batch([], 32, 100).shape == (0, 3, 32, 100)
    crops = [np.full((20, 50, 3), 255, np.uint8), np.zeros((100, 400), np.uint8)]  # enlarged; shrunk, grey
    x = preprocess_batch(crops)
    assert x.shape == (2, 3, 64, 200) and x.dtype == np.float32
    assert np.all(x[0] == 1.0) and np.all(x[1] == -1.0)


def test_as_bgr_converts_the_layouts_it_takes_and_names_what_it_refuses():
    from ocr.process import as_bgr

    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for image in (grey, grey[:, :, None], cv2.cvtColor(grey, cv2.COLOR_GRAY2BGRA)):
        out = as_bgr(image)
        assert out.shape == (3, 4, 3) and np.array_equal(out[:, :, 1], grey)
    bgr = np.zeros((3, 4, 3), np.uint8)
    assert as_bgr(bgr) is bgr
    for bad, says in ((np.zeros((3, 4, 2), np.uint8), "not an array of shape (3, 4, 2)"),
                      (np.zeros((0, 4, 3), np.uint8), "not an array of shape (0, 4, 3)"),
                      (np.zeros((3, 4, 3, 1), np.uint8), "not an array of shape (3, 4, 3, 1)"),
                      ([[0]], "not a list"), (np.zeros((3, 4, 3), np.float32), "not float32")):
        with pytest.raises(UserError, match=r"^an image must (be an H x W|hold 8-bit).*" + re.escape(says)):
            as_bgr(bad)


def test_with_rgb_an_arrays_colours_are_taken_as_rgb_or_rgba():
    """PIL's and imageio's arrays are RGB, picamera2's default XBGR8888 gives [R, G, B, 255] pixels."""
    from PIL import Image

    from ocr.process import as_bgr

    red = np.zeros((2, 3, 3), np.uint8)
    red[..., 0] = 200  # R first
    assert as_bgr(red, rgb=True)[0, 0].tolist() == [0, 0, 200] and as_bgr(red)[0, 0].tolist() == [200, 0, 0]
    rgba = np.dstack([red, np.full((2, 3), 255, np.uint8)])
    assert as_bgr(rgba, rgb=True)[0, 0].tolist() == [0, 0, 200] and as_bgr(rgba)[0, 0].tolist() == [200, 0, 0]
    grey = np.full((2, 3), 7, np.uint8)
    assert as_bgr(grey, rgb=True)[0, 0].tolist() == [7, 7, 7]
    assert as_bgr(Image.fromarray(red), rgb=True)[0, 0].tolist() == [0, 0, 200]  # a PIL image is RGB either way


def test_a_pil_image_is_its_bgr_array_upright_as_cv2_reads_its_file(tmp_path):
    """A phone's photo opened with PIL is turned upright by its EXIF orientation, as cv2.imread turns its file."""
    from PIL import Image

    from ocr.process import as_bgr, read_bgr

    bgr = np.zeros((20, 40, 3), np.uint8)
    bgr[:, :10] = (255, 0, 0)  # blue on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter anticlockwise: shown turned back clockwise
    stored = Image.fromarray(cv2.cvtColor(cv2.rotate(bgr, cv2.ROTATE_90_COUNTERCLOCKWISE), cv2.COLOR_BGR2RGB))
    stored.save(tmp_path / "phone.png", exif=exif.tobytes())
    stored.save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=100)
    assert np.array_equal(as_bgr(Image.open(tmp_path / "phone.png")), bgr)
    assert np.abs(as_bgr(Image.open(tmp_path / "phone.jpg")).astype(int) - read_bgr(tmp_path / "phone.jpg")).max() < 8
    grey = Image.fromarray(bgr[:, :, 0])  # mode L: three equal channels; RGBA: its colours
    assert np.array_equal(as_bgr(grey), cv2.cvtColor(bgr[:, :, 0], cv2.COLOR_GRAY2BGR))
    rgba = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGBA))
    assert np.array_equal(as_bgr(rgba), bgr)


def test_an_image_of_more_pixels_than_opencv_reads_is_one_line_naming_it(tmp_path):
    """A file over OpenCV's limit of pixels (1 gigapixel; lowered here to 1000 px, as its variable does when OpenCV
    loads) was cv2's failed assertion, a traceback; it is told and named. A PPM over it is still an image."""
    import os
    import subprocess
    import sys

    cv2.imwrite(str(tmp_path / "big.png"), np.zeros((40, 30, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "big.ppm"), np.zeros((40, 30, 3), np.uint8))
    (tmp_path / "big.dat").write_bytes((tmp_path / "big.ppm").read_bytes())
    code = ("import sys; from common.errors import UserError; from ocr.process import is_image_file, read_bgr\n"
            "print(is_image_file(sys.argv[1]), is_image_file(sys.argv[2]))\n"
            "try: read_bgr(sys.argv[1])\nexcept UserError as e: print(e)")
    env = {**os.environ, "OPENCV_IO_MAX_IMAGE_PIXELS": "1000"}
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big.png"), str(tmp_path / "big.dat")],
                          capture_output=True, text=True, env=env, cwd=root, timeout=120)
    assert done.stdout.splitlines() == [
        "True True", "cannot read image (more pixels than OpenCV reads, 1 gigapixel unless OPENCV_IO_MAX_IMAGE_PIXELS "
        f"is set): {tmp_path / 'big.png'}"], done.stderr


def test_opencvs_other_refusals_are_told_by_their_last_line():
    from ocr.process import cv_refusal

    assert cv_refusal(cv2.error("OpenCV(5.1.0) grfmt_png.cpp:42: error: (-2:Unspecified error)\n"
                                "  in function 'readData'\n  bad IHDR chunk\n")) == "bad IHDR chunk"


def test_image_files_are_told_by_their_first_bytes_or_by_decoding(tmp_path):
    from ocr.process import is_image_file, read_bgr

    img = np.full((8, 8, 3), 90, np.uint8)
    for ext in (".jpg", ".png", ".bmp", ".tif", ".webp"):
        cv2.imwrite(str(tmp_path / f"a{ext}"), img)
        assert is_image_file(tmp_path / f"a{ext}"), ext
    (tmp_path / "renamed.dat").write_bytes((tmp_path / "a.png").read_bytes())
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("not an image")
    (tmp_path / "riff.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    assert is_image_file(tmp_path / "renamed.dat")
    assert not any(is_image_file(tmp_path / n) for n in ("empty.jpg", "notes.jpg", "riff.wav"))
    assert read_bgr(tmp_path / "a.png").shape == (8, 8, 3)
    with pytest.raises(UserError) as exc:
        read_bgr(tmp_path / "missing.png")
    assert str(exc.value) == f"image not found: {tmp_path / 'missing.png'}"
    with pytest.raises(UserError) as exc:
        read_bgr(tmp_path / "notes.jpg")
    assert str(exc.value) == f"cannot read image (corrupt or unsupported format): {tmp_path / 'notes.jpg'}"


@pytest.mark.parametrize("h, w, aspect, rows", [
    (10, 14, 1.5, 2), (10, 15, 1.5, 1),  # narrower than 1.5 x its height: two rows; as wide: one
    (8, 10, 1.5, 2), (7, 10, 1.5, 1),    # under 8 px high there are no two rows to read
    (100, 10, 0.0, 1),                   # 0: never
])
def test_plate_rows(h, w, aspect, rows):
    from ocr.process import plate_rows

    assert plate_rows(h, w, aspect) == rows


def test_an_image_is_written_in_the_format_its_name_says(tmp_path, capfd):
    from ocr.process import write_image

    img = np.random.default_rng(0).integers(0, 255, (30, 90, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", img)
    assert np.array_equal(cv2.imread(str(tmp_path / "a.png")), img)  # lossless, and no JPEG key for OpenCV to warn of
    write_image(tmp_path / "a.jpg", img, quality=20)
    write_image(tmp_path / "b.JPEG", img, quality=95)
    assert (tmp_path / "a.jpg").stat().st_size < (tmp_path / "b.JPEG").stat().st_size  # the quality asked for
    assert "unsupported key" not in capfd.readouterr().err
