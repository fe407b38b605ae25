"""Seeded hold-out splits of the real data, written to configs/splits/ so every run uses the same ones.

    python ocr/splits.py --data ../shared/data --out configs/splits

- `real_crops_holdout.csv`: a fixed 20 % of us_crops and ar_crops (seed 0), per dataset: the reported test set.
- `real_crops_val.csv`: a fixed 10 % of the rest (seed 1), per dataset: validation (model selection), so the
  test set never chooses the model.
- `dashcam_holdout.csv`: whole rides dayride_type1_002 and _003 plus the last quarter (by time) of the night
  ride: never a random frame split, as neighbouring frames show the same cars.
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import csv
import re
from pathlib import Path

import numpy as np
from loguru import logger

from common.cli import entry_parser, run_main
from common.paths import read_csv

HOLDOUT_RIDES = ("train_dayride_type1_002", "train_dayride_type1_003")
TIME_BLOCK_RIDE, TIME_BLOCK_FRACTION = "train_nightride_type3_001", 0.25
VAL_FRACTION = 0.1


def crop_holdout(names: list[str], fraction: float = 0.2, seed: int = 0) -> list[str]:
    """A seeded `fraction` of `names` (sorted first, so the result depends only on the set of names)."""
    names = sorted(names)
    rng = np.random.default_rng(seed)
    k = int(round(len(names) * fraction))
    return sorted(names[i] for i in rng.permutation(len(names))[:k])


def ride_of(name: str) -> tuple[str, int]:
    """`train_dayride_type1_001_t01054.jpg` -> ("train_dayride_type1_001", 1054)."""
    m = re.match(r"(.+)_t(\d+)\.\w+$", name)
    if not m:
        raise ValueError(f"dash-cam file name {name!r} is not <ride>_t<seconds>.<ext>")
    return m.group(1), int(m.group(2))


def dashcam_holdout(names: list[str]) -> list[str]:
    """The held-out dash-cam frames: whole held-out rides and the last block of one more ride."""
    rides = [ride_of(n) for n in names]
    times = sorted(t for r, t in rides if r == TIME_BLOCK_RIDE)
    cut = times[int(len(times) * (1 - TIME_BLOCK_FRACTION))] if times else 0
    return sorted(n for n, (r, t) in zip(names, rides) if r in HOLDOUT_RIDES or (r == TIME_BLOCK_RIDE and t >= cut))


def _images(folder: Path) -> list[str]:
    labels = folder / "labels.csv"
    return sorted({r["image"] for r in read_csv(labels, "CSV image,plate_text", ("image", "plate_text"))})


def main(argv: list[str] | None = None) -> int:
    ap = entry_parser(__doc__)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("configs/splits"))
    args = ap.parse_args(argv)

    def work() -> None:
        args.out.mkdir(parents=True, exist_ok=True)
        held = {ds: crop_holdout(_images(args.data / ds)) for ds in ("us_crops", "ar_crops")}
        val = {ds: crop_holdout(sorted(set(_images(args.data / ds)) - set(held[ds])), VAL_FRACTION, seed=1)
               for ds in held}
        for name, split in (("real_crops_holdout.csv", held), ("real_crops_val.csv", val)):
            with (args.out / name).open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["dataset", "image"])
                for ds, names in split.items():
                    w.writerows([ds, n] for n in names)
        with (args.out / "dashcam_holdout.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["dataset", "image"])
            w.writerows(["dashcam_ro", n] for n in dashcam_holdout(_images(args.data / "dashcam_ro")))
        logger.info(f"wrote real_crops_holdout.csv, real_crops_val.csv and dashcam_holdout.csv in {args.out}")

    return run_main(work)


if __name__ == "__main__":
    raise SystemExit(main())
