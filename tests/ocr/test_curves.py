"""ocr/curves.py: the guide's training_curves.png, the losses on the left and the accuracies on the right."""
import cv2
import numpy as np

from ocr.curves import save_curves


def test_the_curves_image_has_the_losses_left_and_the_accuracies_right(tmp_path):
    history = {"train_loss": [3.0, 1.0, 0.5], "val_loss": [2.5, 1.2, 0.9], "val_char_acc": [0.2, 0.6, 0.9],
               "val_seq_acc": [0.0, 0.3, 0.7], "lr": [1e-3] * 3}
    save_curves(history, tmp_path / "training_curves.png")
    img = cv2.imread(str(tmp_path / "training_curves.png"))
    assert img.shape == (400, 1200, 3)  # 12 x 4 inches at 100 dpi
    blue, orange = np.array([180, 119, 31]), np.array([14, 127, 255])  # matplotlib's first two line colours (BGR)
    for half in (img[:, :600], img[:, 600:]):  # each panel draws two lines
        assert all((np.abs(half.astype(int) - c).sum(axis=2) < 30).sum() > 200 for c in (blue, orange))
