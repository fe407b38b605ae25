"""A test clip with known vehicles: real plate crops driven towards a fixed camera over real frames.

Each vehicle is one real crop (its text known) that approaches from far (~40-70 px wide) to near (~150-260 px)
over 24-40 frames across a real dash-cam frame whose own plates are painted out, with the scene synthesiser's
perspective, brightness matching, blur and noise; a few empty frames separate the vehicles. With `--together K`
vehicles come K at a time, each in its lane, and with `--pan PX` the camera turns sideways and back meanwhile;
`--interlace` films them with an interlaced camera (each frame's odd rows half a frame later: a moving plate combed).
Writes `clip.mp4` and `expected.csv` (plate_text,first_frame,last_frame,note) for `python -m pipeline.evaluate
--video`.

    python -m pipeline.synth_clip --backgrounds ../shared/data/dashcam_ro --plates ../shared/data/us_crops \\
        ../shared/data/ar_crops --include configs/splits/dashcam_holdout.csv configs/splits/real_crops_holdout.csv \\
        --out data_gen/clip_holdout --vehicles 60 --seed 3
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from common.cli import at_least, entry_parser, run_main, unfinished
from common.errors import UserError
from common.paths import fresh_output
from detection.dataset import PlateBox
from detection.scenes import _plate_source, load_sources, paste, warp_plate
from ocr.process import dataset_image, read_bgr


def painted_out(frame: np.ndarray, boxes: list[PlateBox]) -> np.ndarray:
    """The frame with its own plates inpainted, so that the clip's only plates are the known ones."""
    mask = np.zeros(frame.shape[:2], np.uint8)
    for b in boxes:
        mask[max(0, int(b.y1) - 4):int(b.y2) + 4, max(0, int(b.x1) - 4):int(b.x2) + 4] = 255
    return cv2.inpaint(frame, mask, 5, cv2.INPAINT_TELEA) if mask.any() else frame.copy()


@dataclass(frozen=True)
class Placement:
    """A plate in one frame: its (warped, scaled) image and mask at (x, y)."""
    patch: np.ndarray
    mask: np.ndarray
    x: int
    y: int


def vehicle_path(size: tuple[int, int], plate: np.ndarray, rng: np.random.Generator,
                 lane: tuple[float, float] = (0.0, 1.0), fields: int = 1) -> tuple[list[Placement], int]:
    """One plate approaching: its width grows geometrically from far to near along a path down the frame (H x W
    `size`), inside `lane` (fractions of the width); returns its placements and its look (the seed of the same
    brightness, blur and noise in every frame). `fields` 2: two placements a frame, where each field of an
    interlaced frame sees the plate (the second half a frame later)."""
    H, W = size
    n = int(rng.integers(24, 41))
    far, near = rng.uniform(40, 70) * W / 1280, rng.uniform(150, 260) * W / 1280
    patch, mask, _ = warp_plate(plate, near, rng)  # one perspective for the whole approach
    x0, x1 = rng.uniform(0.3, 0.7) * W, rng.uniform(0.15, 0.85) * W
    if lane != (0.0, 1.0):  # several vehicles at once: each keeps to its part of the road
        x0, x1 = ((lane[0] + x / W * (lane[1] - lane[0])) * W for x in (x0, x1))
    y0, y1 = rng.uniform(0.42, 0.5) * H, rng.uniform(0.68, 0.8) * H
    look = int(rng.integers(1 << 30))
    path = []
    for i in np.arange(n * fields) / fields:
        t = i / (n - 1)
        s = (far / near) ** (1 - t)
        w, h = max(4, int(patch.shape[1] * s)), max(2, int(patch.shape[0] * s))
        p = cv2.resize(patch, (w, h), interpolation=cv2.INTER_AREA)
        m = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
        cx, cy = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
        path.append(Placement(p, m, int(np.clip(cx - w / 2, 0, W - w)), int(np.clip(cy - h / 2, 0, H - h))))
    return path, look


def interlaced(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The frame an interlaced camera gives: the even rows of `first`, the odd rows of `second` (exposed later)."""
    out = first.copy()
    out[1::2] = second[1::2]
    return out


def compose(background: np.ndarray, plates: list[tuple[Placement, int]], shift: float = 0.0) -> np.ndarray:
    """The background with `plates` (placement, look) pasted, the far (small) ones first so that near ones cover
    them, then moved `shift` px sideways as a panning camera sees it (edges repeated)."""
    img = background.copy()
    for pl, look in sorted(plates, key=lambda q: q[0].patch.shape[1]):
        paste(img, pl.patch, pl.mask, pl.x, pl.y, np.random.default_rng(look))
    if shift:
        img = cv2.warpAffine(img, np.array([[1, 0, shift], [0, 1, 0]], np.float32), (img.shape[1], img.shape[0]),
                             borderMode=cv2.BORDER_REPLICATE)
    return img


def make_clip(backgrounds: Path, plates: list[Path], out: Path, vehicles: int, seed: int = 0,
              exclude: set[tuple[str, str]] | None = None, include: set[tuple[str, str]] | None = None,
              unboxed: Path | None = None, gap: int = 6, fps: float = 25.0, together: int = 1,
              pan: float = 0.0, interlace: bool = False, noise: float = 0.0) -> Path:
    """Write out/clip.mp4 and out/expected.csv (each vehicle a different plate text); returns the clip's path.
    `together` > 1: vehicles come in groups that many at once, each in its lane, starting 4-14 frames apart;
    `pan` > 0: the camera turns that many px (at 1280 wide) sideways and back during each group; `interlace`: each
    frame's odd rows show the scene half a frame later than its even rows, as an interlaced camera's do; `noise` > 0:
    every frame, the empty ones too, gets sensor noise of that sigma (grey levels), drawn afresh each frame."""
    labels, names, crops = load_sources(backgrounds, plates, exclude, include, unboxed)
    by_text = {c[1]: c for c in crops if c[1]}  # one crop per text: the evaluation tells vehicles by their text
    if len(by_text) < vehicles:
        raise UserError(f"{vehicles} vehicles asked, but only {len(by_text)} plate texts are left in "
                        f"{', '.join(str(p) for p in plates)}")
    rng = np.random.default_rng(seed)
    texts = sorted(by_text)
    chosen = [by_text[texts[i]] for i in rng.permutation(len(texts))[:vehicles]]
    out.mkdir(parents=True, exist_ok=True)
    writer: cv2.VideoWriter | None = None
    rows: list[tuple[str, int, int, str]] = []
    n, size = 0, (0, 0)
    grain = np.random.default_rng(seed + 1)  # its own stream: the vehicles are drawn as without noise

    def write(img: np.ndarray) -> None:
        img = img if img.shape[:2] == size[::-1] else cv2.resize(img, size)
        if noise > 0:
            img = np.clip(img + grain.normal(0, noise, img.shape), 0, 255).astype(np.uint8)
        assert writer is not None  # opened at the first frame, before anything is written
        writer.write(img)

    try:
        for g in range(0, len(chosen), together):
            group = chosen[g:g + together]
            name = names[int(rng.integers(len(names)))]
            frame = read_bgr(dataset_image(backgrounds / "labels.csv", name))
            background = painted_out(frame, labels[name])
            if writer is None:  # the first frame's size for the whole clip; other sizes are resized to it
                size = (frame.shape[1], frame.shape[0])
                writer = cv2.VideoWriter(str(out / "clip.mp4"), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
            paths, start = [], 0
            for j, crop in enumerate(group):
                plate, text = _plate_source([crop], rng, synth_share=0.0)  # trimmed towards the plate, as in scenes
                lane = (j / len(group), (j + 1) / len(group)) if len(group) > 1 else (0.0, 1.0)
                placed, look = vehicle_path(background.shape[:2], plate, rng, lane, 2 if interlace else 1)
                path = [placed[k::2] for k in (0, 1)] if interlace else [placed]  # each field's placements
                start += int(rng.integers(4, 15)) if j else 0
                paths.append((path, look, start))
                rows.append((text, n + start, n + start + len(path[0]) - 1, name))
            length = max(s + len(p[0]) for p, _, s in paths)
            swing = pan * frame.shape[1] / 1280
            for f in range(length):
                views = [compose(background, [(p[k][f - s], look) for p, look, s in paths if s <= f < s + len(p[0])],
                                 swing * np.sin(np.pi * (f + k / 2) / length)) for k in range(2 if interlace else 1)]
                img = interlaced(*views) if interlace else views[0]
                write(img)
            for _ in range(gap):
                write(background)
            n += length + gap
    finally:
        if writer is not None:
            writer.release()
    with (out / "expected.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["plate_text", "first_frame", "last_frame", "note"])
        rows.sort(key=lambda r: r[1])
        w.writerows(rows)
    return out / "clip.mp4"


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = entry_parser(__doc__)
    ap.add_argument("--backgrounds", type=Path, required=True, help="labels.csv folder of frames")
    ap.add_argument("--plates", type=Path, nargs="+", required=True, help="crop folders (images/ + labels.csv)")
    ap.add_argument("--exclude", type=Path, nargs="*", default=[], help="split CSVs of frames and crops never used")
    ap.add_argument("--include", type=Path, nargs="*", default=None,
                    help="split CSVs: of the folders they name, use only these frames and crops")
    ap.add_argument("--unboxed", type=Path, help="CSV image,x1,y1,x2,y2 of plates the frame labels leave out "
                                                  "(painted out too)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--vehicles", type=at_least(1), default=40)
    ap.add_argument("--together", type=at_least(1), default=1, help="vehicles in view at once, each in its lane")
    ap.add_argument("--pan", type=float, default=0.0, help="px (at 1280 wide) the camera turns during each group")
    ap.add_argument("--interlace", action="store_true",
                    help="an interlaced camera: each frame's odd rows half a frame later than its even rows")
    ap.add_argument("--gap", type=at_least(0), default=6, help="empty frames between vehicles (or groups)")
    ap.add_argument("--noise", type=float, default=0.0, help="sensor noise sigma (grey levels) on every frame")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    def work() -> None:
        from ocr.data import read_split_file

        if args.noise < 0:
            raise UserError(f"--noise must be 0 or more, not {args.noise:g}")
        exclude = read_split_file(args.exclude)  # the split files' pairs together
        include = None if args.include is None else read_split_file(args.include)
        out = fresh_output(args.out, "expected.csv")
        path = make_clip(args.backgrounds, args.plates, out, args.vehicles, args.seed, exclude, include,
                         args.unboxed, args.gap, together=args.together, pan=args.pan, interlace=args.interlace,
                         noise=args.noise)
        logger.info(f"wrote {path} and {args.out / 'expected.csv'}")

    return run_main(work, on_interrupt=unfinished(args.out, "expected.csv"))


if __name__ == "__main__":
    raise SystemExit(main())
