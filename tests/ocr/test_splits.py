"""The seeded hold-out splits: fixed shares, independent of file order, disjoint, and the committed ones are what
`python ocr/splits.py` makes of the shared data."""
import csv
from pathlib import Path

import pytest

from ocr.splits import crop_holdout, dashcam_holdout, main, ride_of

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"


def test_crop_holdout_is_a_seeded_share_whatever_the_order():
    names = [f"{i:03d}.jpg" for i in range(50)]
    held = crop_holdout(names)
    assert len(held) == 10 and held == sorted(held) and set(held) <= set(names)
    assert crop_holdout(list(reversed(names))) == held  # depends on the set of names only
    assert crop_holdout(names, seed=1) != held
    assert len(crop_holdout(names, 0.1)) == 5


def test_dashcam_holdout_takes_whole_rides_and_the_night_ride_s_last_quarter():
    assert ride_of("train_dayride_type1_001_t01054.jpg") == ("train_dayride_type1_001", 1054)
    names = ([f"train_dayride_type1_001_t{t:05d}.jpg" for t in range(4)]
             + [f"train_dayride_type1_002_t{t:05d}.jpg" for t in range(3)]
             + [f"train_nightride_type3_001_t{t:05d}.jpg" for t in range(10)])
    assert dashcam_holdout(names) == (  # of 10 night frames the last 3: the cut at index int(10 * 0.75)
        [f"train_dayride_type1_002_t{t:05d}.jpg" for t in range(3)]
        + [f"train_nightride_type3_001_t{t:05d}.jpg" for t in (7, 8, 9)])


def _labels(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True)
    with (folder / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "plate_text"])
        w.writerows([n, "ABC123"] for n in names)


def _rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="") as f:
        return [(r["dataset"], r["image"]) for r in csv.DictReader(f)]


def test_cli_writes_disjoint_test_and_validation_splits(tmp_path):
    data = tmp_path / "data"
    _labels(data / "us_crops", [f"us{i:02d}.jpg" for i in range(40)])
    _labels(data / "ar_crops", [f"ar{i:02d}.jpg" for i in range(20)])
    _labels(data / "dashcam_ro", ["train_dayride_type1_003_t00001.jpg", "train_dayride_type1_001_t00001.jpg"])
    out = tmp_path / "configs" / "splits"  # made, parents too
    assert main(["--data", str(data), "--out", str(out)]) == 0
    assert main(["--data", str(data), "--out", str(out)]) == 0  # again, over the files it wrote
    held, val = _rows(out / "real_crops_holdout.csv"), _rows(out / "real_crops_val.csv")
    assert [sum(d == ds for d, _ in held) for ds in ("us_crops", "ar_crops")] == [8, 4]  # 20 %
    assert [sum(d == ds for d, _ in val) for ds in ("us_crops", "ar_crops")] == [3, 2]  # 10 % of the rest
    assert not set(held) & set(val)
    assert _rows(out / "dashcam_holdout.csv") == [("dashcam_ro", "train_dayride_type1_003_t00001.jpg")]


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data beside the checkout")
def test_the_committed_splits_are_the_seeded_ones(tmp_path):
    assert main(["--data", str(SHARED), "--out", str(tmp_path)]) == 0
    for name in ("real_crops_holdout.csv", "real_crops_val.csv", "dashcam_holdout.csv"):
        assert (tmp_path / name).read_bytes() == (ROOT / "configs" / "splits" / name).read_bytes(), name
