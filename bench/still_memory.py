"""How much memory a huge still takes in the HTTP service: its peak resident memory and time for one image.

    python bench/still_memory.py --size 12000x9000                                   # a 108 MP phone photo's size
    python bench/still_memory.py --size 30000x30000 --max-mp 1000 detector.batch=1000  # the tiles in one call

Writes a black PNG of `--size` (width x height; deflate makes 900 MP a 2.6 MB file, as a client could post it) into a
temporary folder and reads it in a child process as the service reads a posted image (`PlateService.read`, the shipped
models, `key=value` overrides passed on, `--max-mp` as the service's): the child's peak resident memory (Linux's
`ru_maxrss`), the time taken and what was answered. The models alone take ~0.9 GB of it. Run it on an idle machine
with the memory to spare: the tiles in one call (`detector.batch=1000`, the code before `detector.batch`) took 23 GB
for 900 MP.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import resource
import struct
import subprocess
import tempfile
import time
import zlib

from common.cli import positive, whole_pair


def black_png(w: int, h: int) -> bytes:
    """A w x h RGB PNG of black rows, compressed as it is made (never held whole)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    deflate, row = zlib.compressobj(9), bytes(1 + 3 * w)  # each row: its filter byte, then its pixels
    data = b"".join(deflate.compress(row) for _ in range(h)) + deflate.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def child(path: Path, max_mp: float, overrides: list[str]) -> None:
    """Read `path` as the service reads a posted image; print its answer in one line."""
    from common.errors import UserError
    from common.paths import ROOT
    from pipeline.app import still_reader
    from pipeline.serve import PlateService
    from pipeline.serve_io import pil_allowing
    from pipeline.settings import load_configs

    service = PlateService(still_reader(load_configs(ROOT / "configs", overrides)), max_mp=max_mp)
    try:
        with pil_allowing(max_mp):
            answer = service.read(path.read_bytes(), path.name)
        said = f"read: {len(answer['reads'])} plates in {answer['ms'] / 1000:.1f} s"
    except UserError as exc:
        said = f"refused: {exc}"
    finally:
        service.close()
    print(f"{said}; peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")  # kB on Linux


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=whole_pair("x"), default="12000x9000", help="width x height of the image, in pixels")
    ap.add_argument("--max-mp", type=positive, default=150.0, help="the service's --max-mp")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("overrides", nargs="*", help="config overrides key=value")
    a = ap.parse_args(argv)
    if a.child is not None:
        child(a.child, a.max_mp, a.overrides)
        return 0
    w, h = a.size
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"black_{w}x{h}.png"
        path.write_bytes(black_png(w, h))
        start = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child", str(path), "--max-mp", str(a.max_mp),
                               *a.overrides], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        size_mb = path.stat().st_size / 1e6
    said = done.stdout.strip().splitlines()[-1:] or done.stderr.strip().splitlines()[-1:]
    print(f"{w} x {h} px ({w * h / 1e6:.0f} MP), a PNG of {size_mb:.1f} MB {' '.join(a.overrides)}: "
          f"{said[0] if said else '?'}; {seconds:.1f} s with the models' loading")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
