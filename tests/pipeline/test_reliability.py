"""Crash and signal behaviour of a real process: SIGKILL loses no committed event, SIGTERM flushes open tracks."""
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import pytest

from tests.bench_loader import bench_module

ROOT = Path(__file__).resolve().parents[2]
sigterm_exit = bench_module("sigterm_exit")  # its child program and long clip, shared with this test

WRITER = textwrap.dedent("""
    import sys, uuid
    sys.path.insert(0, {root!r})
    from pipeline.sinks import CsvSink, JsonlSink, SqliteSink
    from pipeline.types import PlateEvent
    out = sys.argv[1]
    with SqliteSink(out + "/events.db") as db, JsonlSink(out + "/events.jsonl") as js, CsvSink(out + "/events.csv") as cs:
        for i in range(100000):
            e = PlateEvent(uuid.uuid4().hex, "cam", i, "AB%05d" % i, 0.9, (0.9,) * 7, (), 3, i, i + 2, 0.0, 0.1, i,
                           (1.0, 2.0, 3.0, 4.0), "lost")
            for sink in (db, js, cs):
                sink.write(e)
            print(e.event_id, flush=True)  # every sink has returned: the event is committed
""")


def test_sigkill_loses_no_committed_event(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT)))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    committed = [proc.stdout.readline().strip() for _ in range(40)]
    proc.kill()  # SIGKILL: no handler, no cleanup
    proc.wait()
    committed += [line.strip() for line in proc.stdout if line.strip()]  # ids printed before the kill landed
    db = sqlite3.connect(tmp_path / "events.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = [r[0] for r in db.execute("SELECT event_id FROM events")]
    assert len(ids) == len(set(ids))  # no duplicates
    assert set(committed) <= set(ids)  # nothing committed is lost
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    js = [json.loads(x)["event_id"] for x in lines]
    assert set(committed) <= set(js) and len(js) == len(set(js))


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_sigterm_flushes_open_tracks_and_checkpoints(tmp_path, stop):
    """run_pipeline.py on a long clip with one plate always in view: SIGTERM (or SIGHUP: the terminal or SSH session
    closed, which ended the run at once, its open tracks lost) writes that vehicle and exits 0."""
    if not hasattr(signal, stop):
        pytest.skip(f"no {stop} here")
    clip, child = tmp_path / "long.avi", tmp_path / "child.py"
    sigterm_exit.long_clip(clip)  # 3000 frames, the plate moving back and forth: one track throughout
    # run_pipeline.main() with a fake detector and reader, "leave": as on the command line (arguments from sys.argv)
    child.write_text(textwrap.dedent(sigterm_exit.CHILD.format(root=str(ROOT))))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(child), "leave", str(clip), f"output_dir={out}", "progress=false",
                             "fusion.decisive_reads=9999"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(getattr(signal, stop), signal.SIG_DFL))  # from a terminal,
    # not from under nohup (whose ignored SIGHUP the run keeps)
    assert proc.stdout.readline().strip() == "ready"
    db_path = out / "long" / "events.db"
    deadline = time.time() + 60
    while not (out / "long" / "annotated.mp4").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # some frames processed
    t0 = time.time()
    proc.send_signal(getattr(signal, stop))
    _, err = proc.communicate(timeout=30)
    took = time.time() - t0
    assert took < 10, f"{stop} took {took:.1f} s; the run's log:\n{err[-3000:]}"
    assert proc.returncode == 0, err
    assert f"{stop}: stopping" in err
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute("SELECT text, reason FROM events").fetchall()
    assert rows == [("AB123CD", "stopped")]
    wal = db_path.with_name("events.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed on close
    summary = json.loads((out / "long" / "summary.json").read_text())
    assert summary["stopped"] and 0 < summary["frames"] < 3000
    video = cv2.VideoCapture(str(out / "long" / "annotated.mp4"))  # closed before the process ended
    assert video.read()[0] and video.get(cv2.CAP_PROP_FRAME_COUNT) > 0
