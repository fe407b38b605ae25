"""A watched folder (`follow=true`): a camera uploading snapshots, read as they come, each once, across runs."""
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from pipeline.media import watch_media

ROOT = Path(__file__).resolve().parents[2]
PLATES = sorted((ROOT / "samples" / "plates").glob("*.jpg"))


class Taker:
    """Pulls a watch in a thread of its own, as the pipeline does, noting each image's size when it was taken."""

    def __init__(self, it) -> None:
        self.got: list[tuple[Path, int]] = []
        self.more = threading.Condition()
        threading.Thread(target=self._pull, args=(it,), daemon=True).start()

    def _pull(self, it) -> None:
        for x in it:
            with self.more:
                self.got.append((x, x.stat().st_size))
                self.more.notify_all()

    def take(self, n: int, timeout: float = 10.0) -> list[tuple[Path, int]]:
        """The first `n` images taken, or fail after `timeout` seconds."""
        with self.more:
            assert self.more.wait_for(lambda: len(self.got) >= n, timeout), self.got
            return self.got[:n]


def test_images_are_taken_as_they_come_each_once_and_whole(tmp_path):
    stop = threading.Event()
    seen = {"old.jpg"}
    shutil.copy(PLATES[0], tmp_path / "old.jpg")  # read by an earlier run
    shutil.copy(PLATES[1], tmp_path / "a.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    watch = Taker(watch_media(tmp_path, seen, stop, poll_s=0.02))
    assert watch.take(1) == [(tmp_path / "a.jpg", PLATES[1].stat().st_size)]
    (tmp_path / "2026-12-03").mkdir()  # a camera's folder of the day, made after the watch began
    growing = tmp_path / "2026-12-03" / "b.jpg"
    whole = PLATES[2].read_bytes()
    growing.write_bytes(whole[:100])  # an upload that pauses for several polls: not taken until it is whole
    (tmp_path / ".partial").mkdir()
    shutil.copy(PLATES[3], tmp_path / ".partial" / "c.jpg")  # hidden folders are left out
    time.sleep(0.1)
    with growing.open("ab") as f:
        f.write(whole[100:])
    assert watch.take(2)[1] == (growing, len(whole))
    time.sleep(0.1)
    assert len(watch.got) == 2 and seen == {"old.jpg", "a.jpg", "2026-12-03/b.jpg"}
    stop.set()


def test_names_the_folder_no_longer_holds_are_forgotten(tmp_path):
    """A camera that clears its old snapshots and reuses names: the watch stays small, and a new image under an old
    name is read."""
    stop, seen = threading.Event(), {"gone.jpg"}
    shutil.copy(PLATES[0], tmp_path / "snap.jpg")
    watch = Taker(watch_media(tmp_path, seen, stop, poll_s=0.02))
    assert watch.take(1)[0][0] == tmp_path / "snap.jpg"
    assert seen == {"snap.jpg"}  # gone.jpg, read by an earlier run and deleted since, is forgotten
    (tmp_path / "snap.jpg").unlink()
    deadline = time.monotonic() + 10
    while "snap.jpg" in seen and time.monotonic() < deadline:  # until a poll has seen it gone
        time.sleep(0.01)
    shutil.copy(PLATES[1], tmp_path / "snap.jpg")
    assert watch.take(2)[1] == (tmp_path / "snap.jpg", PLATES[1].stat().st_size)
    stop.set()


def test_an_image_that_stays_cut_short_is_taken_in_the_end(tmp_path):
    (tmp_path / "cut.jpg").write_bytes(PLATES[0].read_bytes()[:500])
    watch = Taker(watch_media(tmp_path, set(), threading.Event(), poll_s=0.01))
    assert watch.take(1) == [(tmp_path / "cut.jpg", 500)]  # after WHOLE_AFTER_POLLS: read_bgr then says what it is


def test_a_watch_with_idle_s_ends_once_nothing_new_has_come_for_that_long(tmp_path):
    """A dash-cam card or an FTP folder read as one camera's footage, then the run ends (follow_idle_s); a file that
    comes within the idle time is still taken."""
    shutil.copy(PLATES[0], tmp_path / "a.jpg")
    (tmp_path / "failed.jpg").write_bytes(b"")  # an upload that failed: empty for good, it holds nothing up
    got: list[str] = []

    def later() -> None:
        time.sleep(0.1)
        shutil.copy(PLATES[1], tmp_path / "b.jpg")

    def watch() -> None:
        got.extend(p.name for p in watch_media(tmp_path, set(), threading.Event(), poll_s=0.02, idle_s=0.5))

    threading.Thread(target=later, daemon=True).start()
    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive() and got == ["a.jpg", "b.jpg"]


def test_a_watch_ends_with_the_run(tmp_path):
    stop = threading.Event()
    stop.set()
    assert list(watch_media(tmp_path, set(), stop, poll_s=10)) == []


def test_a_folder_watched_with_nothing_coming_is_no_hang(tmp_path, never_stuck):
    """A watch waits `follow_poll_s` between looks, as long as a user sets it, giving signs of progress as it waits
    (systemd's watchdog restarts a service whose source gives none)."""
    stop = threading.Event()
    t, longest = never_stuck(lambda: list(watch_media(tmp_path, set(), stop, poll_s=0.6)), 1.3, 0.3)
    stop.set()
    t.join(10)
    assert longest == 0 and not t.is_alive()


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="shipped weights absent")
def test_a_watched_folder_is_read_as_it_fills_and_not_again_by_the_next_run(tmp_path):
    from pipeline.app import run_images
    from pipeline.settings import load_configs

    drop, out = tmp_path / "uploads", tmp_path / "out"
    drop.mkdir()
    cfgs = load_configs(ROOT / "configs", ["follow=true", "follow_poll_s=0.05", f"output_dir={out}", "progress=false"])
    reads = out / "uploads" / "reads.jsonl"

    def run_until(n_lines: int, put: list[Path]) -> dict:
        stop, result = threading.Event(), {}
        t = threading.Thread(target=lambda: result.update(run_images(str(drop), cfgs, True, stop=stop)))
        t.start()
        for f in put:
            shutil.copy(f, drop / f.name)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not reads.exists() or len(reads.read_text().splitlines()) < n_lines):
            time.sleep(0.05)
        stop.set()
        t.join(30)
        return result

    first = run_until(3, PLATES[:3])
    assert first["images"] == 3 and not first["stopped"]
    second = run_until(5, PLATES[3:5])  # a restart: the three read before are not read again
    assert second["images"] == 2 and second["reads"] == []  # a watch keeps no list of its reads in memory
    lines = [json.loads(line) for line in reads.read_text().splitlines()]
    assert sorted(x["source"] for x in lines) == sorted(f.name for f in PLATES[:5])
    right = sum(x["reads"][0]["text"] == x["source"].split("_")[0] for x in lines)
    assert right >= 3, lines
    csv_rows = (out / "uploads" / "reads.csv").read_text(encoding="utf-8-sig").splitlines()
    assert csv_rows[0].startswith("source,file_time_utc,taken_utc,lat,lon,x1,") and len(csv_rows) == 6  # one header, then each image's read
