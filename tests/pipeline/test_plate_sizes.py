import pytest

from pipeline.plate_sizes import plate_widths, size_advice


def test_the_tracked_plates_widths_are_counted_with_their_median_and_the_small_share():
    assert plate_widths([]) == {"plates": 0}
    assert plate_widths([37.0, 54.0, 65.0, 101.0]) == {"plates": 4, "median": 59.5, "under_60": 0.5}
    assert plate_widths([60.0, 59.9, 200.0]) == {"plates": 3, "median": 60.0, "under_60": 0.333}


@pytest.mark.parametrize("widths, warned", [
    ([40.0] * 6 + [100.0] * 4, True),  # 6 of 10 never 60 px wide
    ([40.0] * 5 + [100.0] * 5, False),  # half: no more than half
    ([40.0] * 9, False),  # too few plates to tell
    ([100.0] * 30, False)])
def test_a_camera_whose_plates_are_mostly_too_small_is_told_so(widths, warned):
    advice = size_advice(plate_widths(widths), "gate")
    assert bool(advice) is warned
    if warned:
        assert advice == ("gate: the plates are too small to read well: 60% of the 10 plates tracked were never 60 px "
                          "wide (median 40 px), and plates under 60 px wide are read about 1 in 4 (9 in 10 from 60 px "
                          "up): zoom the camera in or bring it nearer the lane")
