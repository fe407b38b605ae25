"""bench/plate_photos.py: each turned or foreshortened plate's box is where the plate lands on its canvas."""
import numpy as np
import pytest

from tests.bench_loader import bench_module

photos = bench_module("plate_photos")


def plate_bounds(canvas: np.ndarray) -> tuple[int, int, int, int]:
    """The bounding box (x1, y1, x2, y2, exclusive ends) of the canvas's pixels that are not its grey."""
    ys, xs = np.nonzero(np.abs(canvas.astype(int) - photos.GREY).max(axis=2) > 40)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


@pytest.mark.parametrize("make, amount", [("rolled", 15), ("rolled", -20), ("from_side", 45), ("from_side", -30),
                                          ("from_above", 40), ("from_above", -35)])
def test_the_box_is_where_the_plate_lands(make, amount):
    plate = np.full((60, 200, 3), 250, np.uint8)  # a white plate, 200 x 60, off the grey of its canvas
    canvas, box = getattr(photos, make)(plate, amount)
    # 3 x its height by 2.5 x its width; seen from above, of the plate stood on end (2.5 x 60, 3 x 200), laid back
    assert canvas.shape[:2] == ((150, 600) if make == "from_above" else (180, 500))
    assert np.allclose(box, plate_bounds(canvas), atol=1.5), (box, plate_bounds(canvas))
