"""bench/still_memory.py: the huge image it posts is the size asked for, and black."""

import cv2
import numpy as np

from tests.bench_loader import bench_module

still_memory = bench_module("still_memory")


def test_the_black_png_decodes_to_the_size_asked_for():
    body = still_memory.black_png(7, 3)
    img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
    assert img.shape == (3, 7, 3) and not img.any()
    big = still_memory.black_png(3000, 2000)
    assert len(big) < 40_000  # a 6 MP image in a few kB: what a client's small file can hold
