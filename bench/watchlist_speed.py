"""How fast a long hotlist matches: milliseconds per new read for a camera's watchlist and for a search back.

    python bench/watchlist_speed.py [--plates 100000] [--reads 300]

Makes a hotlist of `--plates` random 5-8 character plates (seeded), then times `Watchlist.match` (what a camera's
events, the annotated video and the HTTP service ask) and `pipeline.search`'s matcher of a whole watchlist
(`search --watchlist`) on `--reads` reads never seen before, half of them a listed plate with one character changed,
for `watchlist_max_edits` 0, 1 and 2: the time to build each, per read, and the hits.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import random
import string
import time

from common.cli import at_least


def main(argv: list[str] | None = None) -> int:
    from pipeline.search import any_of
    from pipeline.watchlist import Watchlist, WatchEntry

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plates", type=at_least(1), default=100_000)
    ap.add_argument("--reads", type=at_least(1), default=300)
    a = ap.parse_args(argv)
    rng = random.Random(0)
    chars = string.ascii_uppercase + string.digits
    plates = ["".join(rng.choice(chars) for _ in range(rng.randint(5, 8))) for _ in range(a.plates)]
    misread = [p[:2] + ("Z" if p[2] != "Z" else "Y") + p[3:] for p in rng.sample(plates, a.reads // 2)]
    reads = misread + ["".join(rng.choice(chars) for _ in range(7)) for _ in range(a.reads - len(misread))]
    for k in (0, 1, 2):
        for what, make in (("Watchlist.match", lambda: Watchlist([WatchEntry(p) for p in plates], k).match),
                           ("search --watchlist", lambda: any_of([(p, "") for p in plates], k))):
            start = time.perf_counter()
            match = make()
            built = time.perf_counter() - start
            start = time.perf_counter()
            hits = sum(bool(match(r)) for r in reads)
            ms = (time.perf_counter() - start) / len(reads) * 1000
            print(f"{a.plates} plates, max_edits={k}, {what:18s}: built in {built:.2f} s, {ms:.2f} ms a new read, "
                  f"{hits} of {len(reads)} reads matched")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
