import cv2
import numpy as np

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
