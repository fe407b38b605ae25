"""Shared fixtures: tiny configs and synthetic data made in tmp_path; everything offline on the CPU."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("YOLO_OFFLINE", "1")
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> Path:
    """16 synthetic 11-digit plates in the labels.csv layout."""
    from ocr.synth import write_dataset

    out = tmp_path_factory.mktemp("digits")
    write_dataset(out, 16, {"digits11": 1.0}, seed=3)
    return out


@pytest.fixture
def tiny_cfg(digits_dir, tmp_path):
    """A very small CRNN (width x0.125, hidden 16) on the synthetic digits, 1 epoch of 32 samples."""
    from ocr.config import OCRConfig

    return OCRConfig(alphabet="digits", width_mult=0.125, hidden=16, dropout=0.0,
                     train=({"path": str(digits_dir), "augment": "medium"},), val=({"path": str(digits_dir)},),
                     samples_per_epoch=32, epochs=1, batch_size=8, num_workers=0, out_dir=str(tmp_path / "run"),
                     precision="fp32", seed=0)


@pytest.fixture
def tiny_ckpt(tmp_path) -> Path:
    """An untrained tiny latin CRNN saved as a checkpoint (random but fixed weights)."""
    import torch

    from ocr.checkpoint import save_checkpoint
    from ocr.model import CRNN, ModelConfig

    torch.manual_seed(0)
    model = CRNN(ModelConfig(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", width_mult=0.125, hidden=16)).eval()
    path = tmp_path / "tiny.pth"
    save_checkpoint(path, model, epoch=1, best_seq_acc=0.5, patterns=[])
    return path


@pytest.fixture
def crops() -> list:
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in ((40, 120), (64, 200), (90, 180), (20, 70), (33, 100))]


class FunctionRecognizer:
    """A recognizer fake made from `read(crops) -> reads`: `probs` carries each crop's read and `decode` hands it
    back; `rows(crop)` as given (default: every crop one row)."""

    def __init__(self, read, rows=None):
        self.read, self._rows = read, rows

    def probs(self, crops):
        import numpy as np

        out = np.empty(len(crops), object)
        out[:] = self.read(crops)
        return out

    def decode(self, p):
        return p

    def rows(self, crop):
        return self._rows(crop) if self._rows else 1


@pytest.fixture
def function_recognizer():
    """`FunctionRecognizer`, the recognizer fake made from a function of the crops."""
    return FunctionRecognizer


def make_posterior(frames: list[tuple[float, float]]):
    """T x 3 posterior over (A, B, blank): each listed frame gives p(A), p(B); two all-blank frames follow."""
    import numpy as np

    rows = [(a, b, 1.0 - a - b) for a, b in frames] + [(0.01, 0.01, 0.98)] * 2
    return np.array(rows)


class WidthRecognizer:
    """A recognizer fake: crops exactly 100 px wide read A at 0.5 (B 0.4); every other width reads B surely."""
    cfg = SimpleNamespace(alphabet="AB", two_row_aspect=0.0)

    def __init__(self) -> None:
        self.seen = []

    def probs(self, crops):
        import numpy as np

        self.seen += [c.shape[:2] for c in crops]
        return np.stack([make_posterior([(0.5, 0.4)] if c.shape[1] == 100 else [(0.05, 0.9)])
                         for c in crops])

    def decode(self, p):
        from ocr.decode import greedy_decode
        from ocr.recognizer import PlateRead

        d = greedy_decode(p, self.cfg.alphabet)
        return PlateRead(d.text, d.confidence, d.char_confidences)

    def rows(self, crop):
        return 1


@pytest.fixture
def width_recognizer():
    """`WidthRecognizer`, the recognizer fake whose read turns on the crop's width."""
    return WidthRecognizer


@pytest.fixture
def posterior():
    """`make_posterior`: a T x 3 posterior over (A, B, blank) from each frame's p(A), p(B)."""
    return make_posterior


class FixedDraws:
    """A stand-in for numpy's Generator whose draws are fixed: `random()` gives the values `p` in turn (cycling),
    `uniform` and `integers` the point `at` of the way through their range (0: the low end), `choice` the first,
    `normal` its mean."""

    def __init__(self, p: float | list[float] = 0.0, at: float = 0.0) -> None:
        self.p, self.at, self.n = (p if isinstance(p, list) else [p]), at, 0

    def random(self) -> float:
        self.n += 1
        return self.p[(self.n - 1) % len(self.p)]

    def uniform(self, lo: float = 0.0, hi: float = 1.0, size=None):
        v = lo + (hi - lo) * self.at
        return np.full(size, v) if size is not None else v

    def integers(self, lo: int, hi: int | None = None, size=None):
        if hi is None:
            lo, hi = 0, lo
        v = int(lo + (hi - 1 - lo) * self.at)
        return np.full(size, v) if size is not None else v

    def choice(self, values):
        return values[0]

    def normal(self, mean: float = 0.0, sigma: float = 1.0, size=None):
        return np.full(size, float(mean)) if size is not None else float(mean)


@pytest.fixture
def fixed_draws() -> type[FixedDraws]:
    """`fixed_draws(p, at)`: a generator whose draws are fixed (`FixedDraws`), to test where a random step goes."""
    return FixedDraws


class SteadyCamera:
    """A camera that never ends, as `cv2.VideoCapture` for the live sources: a grey frame every `delay` seconds."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay

    def isOpened(self) -> bool:
        return True

    def read(self):
        import time

        import numpy as np

        time.sleep(self.delay)
        return True, np.full((48, 64, 3), 90, np.uint8)

    def release(self) -> None:
        pass


@pytest.fixture
def steady_camera() -> type[SteadyCamera]:
    """`steady_camera(delay)`: a fake camera that never ends (`SteadyCamera`)."""
    return SteadyCamera


def _logged(fn, level: str = "INFO"):
    """The loguru messages (level name and text) of `level` and above logged while `fn()` runs, and what it returns."""
    from loguru import logger

    lines: list[tuple[str, str]] = []
    sink = logger.add(lambda m: lines.append((m.record["level"].name, m.record["message"])), level=level)
    try:
        got = fn()
        return lines, got
    finally:
        logger.remove(sink)


@pytest.fixture
def logged():
    """`logged(fn, level="INFO")`: what `fn()` logs, as (level, message) pairs, and what it returns."""
    return _logged


@pytest.fixture(scope="session", autouse=True)
def ultralytics_logs_to_the_sessions_stdout():
    """Ultralytics binds its log handler to `sys.stdout` when first imported: imported first inside a test that
    captures output (`capsys`), it kept that test's stream, closed after it, and every later test that made it log
    (pipeline.evaluate's) printed 'Logging error' tracebacks. Imported here, it binds to the session's stream."""
    from detection.ultra import yolo_class

    yolo_class()


def _never_stuck(work, seconds, limit_s, nap=None):
    """Runs `work()` in a watched thread (common/liveness.py) for about `seconds`; the longest it went without a sign
    of progress, as `stuck(limit_s)` saw it every 50 ms (0: never). A look the watcher itself came to late (the whole
    process held up: a collection of a big heap, a virtual machine's stolen time; CI saw one of 0.7 s) does not lay
    the lateness to the work: the work may not have run either. `nap(s)`: the watcher's sleep (`time.sleep`)."""
    import threading
    import time

    from common.liveness import stuck, watching

    def watched():
        with watching("cam"):
            work()

    nap = nap or time.sleep
    t = threading.Thread(target=watched, daemon=True)
    t.start()
    longest, end = 0.0, time.monotonic() + seconds
    looked = time.monotonic()
    while looked < end:
        nap(0.05)
        now = time.monotonic()
        late, looked = max(0.0, now - looked - 0.05), now  # how much later than asked the watcher woke
        longest = max([longest, *(w.seconds for w in stuck(limit_s + late))])
    return t, longest


@pytest.fixture
def no_gc_pauses():
    """No collection of the heap inside a test that times what it checks to a few tenths of a second. Late in the
    suite a full collection holds every thread for 0.3-1.15 s on a 2-core CPU (`bench/gc_pauses.py`); the
    pipeline itself, its models loaded, runs none while it reads (the same measure on 3 minutes of `bench/soak.py`)."""
    import gc

    was = gc.isenabled()
    gc.disable()
    yield
    if was:
        gc.enable()


@pytest.fixture
def never_stuck(monkeypatch, no_gc_pauses):
    """`never_stuck(work, seconds, limit_s) -> (thread, longest)`: `work()` run in a thread watched for signs of
    progress (systemd's watchdog, common/liveness.py), with a long wait's signs every 50 ms."""
    import common.liveness

    monkeypatch.setattr(common.liveness, "STEP_S", 0.05)
    return _never_stuck
