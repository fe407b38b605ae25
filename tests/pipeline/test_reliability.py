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
import numpy as np

ROOT = Path(__file__).resolve().parents[2]

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


def test_sigterm_flushes_open_tracks_and_checkpoints(tmp_path):
    """run_pipeline.py on a long clip with one plate always in view: SIGTERM writes that vehicle and exits 0."""
    clip = tmp_path / "long.avi"
    vw = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 25, (320, 240))
    for i in range(3000):
        img = np.zeros((240, 320, 3), np.uint8)
        x = 40 + abs(i % 200 - 100)  # back and forth, 1 px per frame: one track throughout
        img[100:130, x:x + 100] = 220
        vw.write(img)
    vw.release()
    child = tmp_path / "child.py"
    child.write_text(textwrap.dedent(f"""
        import sys
        import numpy as np
        sys.path.insert(0, {str(ROOT)!r})
        import detection, pipeline.app, run_pipeline
        from detection.detections import Detections
        from ocr.recognizer import PlateRead

        class Bright:  # finds the bright plate
            def __init__(self, cfg): pass
            def detect(self, f):
                ys, xs = np.nonzero(f.max(axis=2) > 150)
                if not len(xs):
                    return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
                return Detections(np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32),
                                  np.array([0.9], np.float32))

        class Reader:
            def probs(self, crops): return np.ones((len(crops), 1), np.float32)
            def decode(self, p): return PlateRead("AB123CD", 0.9, (0.9,) * 7)
            def rows(self, crop): return 1

        detection.PlateDetector = Bright
        pipeline.app._recognizer = lambda cfg, patterns: Reader()
        print("ready", flush=True)
        sys.exit(run_pipeline.main())  # as on the command line: the arguments from sys.argv
    """))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(child), str(clip), f"output_dir={out}", "progress=false",
                             "fusion.decisive_reads=9999"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    db_path = out / "long" / "events.db"
    deadline = time.time() + 60
    while not (out / "long" / "annotated.mp4").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # some frames processed
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    took = time.time() - t0
    assert took < 10, f"SIGTERM took {took:.1f} s; the run's log:\n{err[-3000:]}"
    assert proc.returncode == 0, err
    assert "SIGTERM: stopping" in err
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
