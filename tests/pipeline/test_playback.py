"""A recorder's playback that ends before its window does: how much was left, and the URL that goes on from there."""
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.playback import ended_early, go_on_url, left_unplayed, playback_window
from pipeline.settings import load_configs

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
HIK = "rtsp://admin:pw@nvr/Streaming/tracks/101?starttime=20261206T220000Z&endtime=20261206T230000Z"


@pytest.mark.parametrize("url, start, end", [
    (HIK, datetime(2026, 12, 6, 22), datetime(2026, 12, 6, 23)),
    ("rtsp://nvr/cam/playback?channel=1&StartTime=2026_12_06_22_00_00&End_Time=2026_12_06_22_30_00",
     datetime(2026, 12, 6, 22), datetime(2026, 12, 6, 22, 30)),
    ("rtsp://nvr/x?starttime=2026-12-06T22:00:00&endtime=2026-12-07T01:00:00",
     datetime(2026, 12, 6, 22), datetime(2026, 12, 7, 1))])
def test_a_playbacks_window_is_read_as_its_recorder_writes_it(url, start, end):
    w = playback_window(url)
    assert w is not None and (w.start, w.end) == (start, end)


@pytest.mark.parametrize("url", ["rtsp://nvr/x?starttime=1&endtime=2", "rtsp://nvr/x?starttime=20261206T230000Z"
                                 "&endtime=20261206T220000Z", "rtsp://nvr/x?endtime=20261206T220000Z",
                                 "rtsp://nvr/x?starttime=20261206T220000Z&endtime=20261206T220000Z"])
def test_a_window_not_known_here_is_none(url):
    assert playback_window(url) is None and ended_early(url, 5.0) == ""


def test_the_url_that_goes_on_moves_its_start_only_written_as_it_was():
    dahua = "rtsp://nvr/cam/playback?channel=1&StartTime=2026_12_06_22_00_00&End_Time=2026_12_06_22_30_00"
    assert go_on_url(dahua, playback_window(dahua), 612.9) == (
        "rtsp://nvr/cam/playback?channel=1&StartTime=2026_12_06_22_10_12&End_Time=2026_12_06_22_30_00")
    w = playback_window(HIK)
    assert left_unplayed(w, 3000) == 600 and left_unplayed(w, 3570) == 0  # within 30 s of its end: played
    assert left_unplayed(w, 3569) == 31


@pytest.fixture
def played(tmp_path, monkeypatch, logged):
    """`played(capture)(url, stop=None)`: the warnings of `run_video` reading `url` as a recorder's playback whose
    stream is `capture()` (frames from `FakeCapture`), its events timed from video_start_utc 21:00Z."""
    import pipeline.app as app
    import pipeline.sources as sources
    from tests.pipeline.test_sources import one_plate_models

    def given(capture):
        monkeypatch.setattr(sources, "open_source", lambda s, stride, cfg, stop, *window: sources.LiveSource(
            s, cfg, lambda url, c: capture(), stop=stop, once=sources.is_playback(s)))
        cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path}", "progress=false", "video_out=false",
                                      "video_start_utc=2026-12-06T21:00:00Z"])

        def run(url, stop=None):
            return logged(lambda: app.run_video(url, cfgs, stop or threading.Event(), *one_plate_models()),
                          "WARNING")[0]
        return run

    return given


def told(left: str, after: str, start: str, utc: str) -> list[tuple[str, str]]:
    """The warning for HIK's hour of playback ended `left` before its end, `after` in; the URL from `start` on."""
    return [("WARNING", f"rtsp://***@nvr/Streaming/tracks/101?starttime=20261206T220000Z&endtime=20261206T230000Z: "
                        f"the playback ended {left} before its window's end, after {after} of 1:00:00 (the recorder "
                        "stopped sending, or holds nothing after it); to go on from there: "
                        f"rtsp://***@nvr/Streaming/tracks/101?starttime={start}&endtime=20261206T230000Z "
                        f"video_start_utc={utc}")]


def test_a_playback_that_stops_sending_mid_window_is_told_with_the_url_that_goes_on(played):
    from tests.pipeline.test_live import FakeCapture

    class Slow(FakeCapture):  # 5 frames 0.3 s apart: the last one about 1.5 s into the window
        def read(self):
            time.sleep(0.3)
            return super().read()

    run = played(lambda: Slow(5, 70))
    assert run(HIK) == told("0:59:59", "0:00:01", "20261206T220001Z", "2026-12-06T21:00:01.000Z")
    assert run(HIK.replace("230000Z", "220020Z")) == []  # a window of 20 s: ended with it
    stopped = threading.Event()
    stopped.set()  # Ctrl-C: the user stopped it
    assert run(HIK, stopped) == []


def test_a_playback_that_gives_no_frame_is_told_to_go_on_from_its_start(played):
    from tests.pipeline.test_live import FakeCapture

    run = played(lambda: FakeCapture(0, 70))
    assert run(HIK) == told("1:00:00", "0:00:00", "20261206T220000Z", "2026-12-06T21:00:00.000Z")
