"""Scene synthesiser: paste plates (real crops and rendered ones) into real frames, with exact boxes.

Each pasted plate gets a realistic scale (far/small to near/large), a perspective warp, brightness matched to
the spot it lands on, blur, noise and sometimes an occluder; boxes already in the frame are kept and never
overlapped. Mosaic, flips, HSV and the other YOLO augmentations are left to ultralytics at training time.

    python detection/scenes.py --backgrounds ../shared/data/dashcam_ro --plates ../shared/data/us_crops ../shared/data/ar_crops \
        --exclude configs/splits/dashcam_holdout.csv configs/splits/real_crops_holdout.csv --out data_gen/scenes --n 3000
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from common.cli import at_least, entry_parser, fraction, run_main, unfinished
from common.errors import UserError
from common.paths import fresh_output
from detection.dataset import PlateBox, add_unboxed, folder_labels, read_box_labels, write_box_labels
from ocr.data import load_crop, read_labels
from ocr.process import dataset_image, greyscale, read_bgr, write_image


@dataclass(frozen=True)
class Scene:
    """A synthetic scene: the image and its plates' boxes."""
    image: np.ndarray
    boxes: tuple[PlateBox, ...]


def _iou_any(box: tuple[float, float, float, float], others: list[PlateBox], margin: float = 4) -> bool:
    x1, y1, x2, y2 = box
    return any(not (x2 + margin < o.x1 or o.x2 + margin < x1 or y2 + margin < o.y1 or o.y2 + margin < y1) for o in others)


def warp_plate(plate: np.ndarray, width: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale the plate to `width` px and warp it in perspective: (patch, mask, quad corners in patch pixels)."""
    h0, w0 = plate.shape[:2]
    s = width / w0
    w, h = max(4, int(w0 * s)), max(2, int(h0 * s))
    if s < 1:  # shrink by averaging first, as a camera's pixels integrate the light: a warp only samples, and a
        plate = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)  # plate warped 5x smaller aliases to noise
        h0, w0 = h, w
    src = np.array([[0, 0], [w0, 0], [w0, h0], [0, h0]], np.float32)
    yaw = rng.uniform(-0.25, 0.25) * h  # one side taller: the plate seen at an angle
    skew = rng.uniform(-0.08, 0.08) * w
    dst = np.array([[0, max(0, yaw)], [w, max(0, -yaw)], [w + skew, h - max(0, -yaw) + abs(yaw)],
                    [skew, h + max(0, yaw) - max(0, yaw)]], np.float32)
    dst += rng.uniform(-0.04, 0.04, (4, 2)).astype(np.float32) * np.array([w, h], np.float32)
    ang = np.deg2rad(rng.uniform(-8, 8))
    c = dst.mean(0)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    dst = (dst - c) @ rot.T + c
    dst -= dst.min(0)
    W, H = int(np.ceil(dst[:, 0].max())) + 1, int(np.ceil(dst[:, 1].max())) + 1
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    patch = cv2.warpPerspective(plate, m, (W, H), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((h0, w0), 255, np.uint8), m, (W, H))
    return patch, mask, dst


def paste(frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, x: int, y: int, rng: np.random.Generator) -> None:
    """Blend `patch` into `frame` at (x, y) with brightness matched to the spot and an edge-softened mask."""
    h, w = mask.shape
    roi = frame[y:y + h, x:x + w]
    local = float(roi.mean()) if roi.size else 128.0
    gain = np.clip(rng.uniform(0.7, 1.15) * (0.55 + 0.45 * local / 128.0), 0.25, 1.3)
    p = np.clip(patch.astype(np.float32) * gain, 0, 255)
    if rng.random() < 0.5:
        k = int(rng.choice([3, 5])) if w > 60 else 3
        p = cv2.GaussianBlur(p, (k, k), 0)
    p += rng.normal(0, rng.uniform(1, 8), p.shape)
    a = cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32)[..., None] / 255.0
    roi[:] = np.clip(roi * (1 - a) + p * a, 0, 255).astype(np.uint8)


def _plate_source(crops: list[tuple[np.ndarray, str]], rng: np.random.Generator,
                  synth_share: float) -> tuple[np.ndarray, str]:
    """A plate image and its text: rendered by ocr/synth_render.py, or a real crop trimmed towards the plate."""
    if not crops or rng.random() < synth_share:
        from ocr.synth_render import RENDERERS

        names = [n for n in RENDERERS if n != "digits11"]
        plate = RENDERERS[names[int(rng.integers(len(names)))]](rng)
        return plate.image, plate.text
    crop, text = crops[int(rng.integers(len(crops)))]
    h, w = crop.shape[:2]  # real crops are loose: trim towards the plate itself (top/bottom up to 8 %,
    t = rng.uniform(0.0, 0.08, 4) * (1, 1, 0.25, 0.25)  # sides up to 2 %: some crops end at the characters)
    return crop[int(t[0] * h):h - int(t[1] * h), int(t[2] * w):w - int(t[3] * w)], text


def zoom_in(frame: np.ndarray, boxes: list[PlateBox], rng: np.random.Generator,
            share: tuple[float, float] = (0.3, 0.6)) -> tuple[np.ndarray, list[PlateBox]]:
    """A random region of `frame` (this share of its width, same aspect) blown up to the frame's size, as a camera
    close to a car sees it; boxes inside it are mapped, and a region cutting through a box is never chosen."""
    H, W = frame.shape[:2]
    for _ in range(20):
        f = rng.uniform(*share)
        w, h = int(W * f), int(H * f)
        x, y = int(rng.integers(0, W - w + 1)), int(rng.integers(0, H - h + 1))
        inside = [b for b in boxes if b.x1 >= x and b.y1 >= y and b.x2 <= x + w and b.y2 <= y + h]
        cut = [b for b in boxes if b not in inside and not (b.x2 <= x or b.x1 >= x + w or b.y2 <= y or b.y1 >= y + h)]
        if not cut:
            sx, sy = W / w, H / h
            img = cv2.resize(frame[y:y + h, x:x + w], (W, H), interpolation=cv2.INTER_LINEAR)
            return img, [PlateBox((b.x1 - x) * sx, (b.y1 - y) * sy, (b.x2 - x) * sx, (b.y2 - y) * sy, b.text)
                         for b in inside]
    return frame.copy(), list(boxes)


def make_scene(frame: np.ndarray, existing: list[PlateBox], crops: list[tuple[np.ndarray, str]], rng: np.random.Generator,
               max_plates: int = 3, synth_share: float = 0.5, close_up: bool = False) -> Scene:
    """Paste 1..max_plates plates into a copy of `frame`; returns the image and all boxes (old + new).
    `close_up`: the frame zoomed in and one plate 30-85 % of its width (a photo taken close to the car)."""
    img = frame.copy()
    H, W = img.shape[:2]
    if close_up:
        img, existing = zoom_in(frame, existing, rng)
        max_plates = 1
    if rng.random() < 0.5:  # vary the background itself
        img = cv2.convertScaleAbs(img, alpha=rng.uniform(0.5, 1.3), beta=rng.uniform(-30, 30))
    boxes = list(existing)
    for _ in range(int(rng.integers(1, max_plates + 1))):
        plate, text = _plate_source(crops, rng, synth_share)
        width = (rng.uniform(0.3, 0.85) * W if close_up  # else log-uniform: many small, some large
                 else float(np.exp(rng.uniform(np.log(28), np.log(W * 0.35)))))
        patch, mask, quad = warp_plate(plate, width, rng)
        ph, pw = mask.shape
        if pw >= W - 2 or ph >= H - 2:
            continue
        top = 0 if close_up else int(H * 0.25)  # far plates sit below the horizon...
        top = min(top, H - ph)  # ...as far as the plate fits above the bottom
        for _try in range(20):
            x, y = int(rng.integers(0, W - pw)), int(rng.integers(top, max(top + 1, H - ph)))
            ys, xs = np.nonzero(mask > 127)
            if not len(xs):
                break
            box = (float(x + xs.min()), float(y + ys.min()), float(x + xs.max() + 1), float(y + ys.max() + 1))
            if not _iou_any(box, boxes):
                paste(img, patch, mask, x, y, rng)
                occluded = rng.random() < 0.15  # a bar or pole across part of the plate
                boxes.append(PlateBox(*box, "" if occluded else text))  # hidden characters: no text (as dashcam_ro)
                if occluded:
                    bw = max(2, int(pw * 0.08))
                    bx = int(rng.uniform(box[0], max(box[0] + 1, box[2] - bw)))
                    cv2.rectangle(img, (bx, int(box[1]) - 5), (bx + bw, int(box[3]) + 5),
                                  tuple(int(v) for v in rng.integers(0, 256, 3)), -1)
                break
    return Scene(img, tuple(boxes))


def load_sources(backgrounds: Path, plates: list[Path], exclude: set[tuple[str, str]] | None = None,
                 include: set[tuple[str, str]] | None = None, unboxed: Path | None = None,
                 ) -> tuple[dict[str, list[PlateBox]], list[str], list[tuple[np.ndarray, str]]]:
    """The background frames' boxes, the usable frame names, and the usable plate crops with their texts
    (`exclude`, `include` and `unboxed` as in `synthesize`)."""
    exclude, include = exclude or set(), include or set()
    restricted = {folder for folder, _ in include}  # folders that `include` names; others are unrestricted

    def usable(folder: Path, name: str) -> bool:
        return (folder.name, name) not in exclude and (folder.name not in restricted or (folder.name, name) in include)

    labels = folder_labels(backgrounds / "labels.csv", ("train",))  # ours, or a labelling tool's export
    if unboxed is not None:
        labels = add_unboxed(labels, read_box_labels(unboxed, check_images=False))
    names = [k for k in labels if usable(backgrounds, k)]
    if not names:
        raise UserError(f"no background frames left in {backgrounds}")
    crops: list[tuple[np.ndarray, str]] = []
    for folder in plates:  # ours, or plates another tool labelled (ocr/label_files.py); a photo's plate cut out
        crops += [(load_crop(s), s.text) for s in read_labels(folder) if usable(folder, s.path.name)]
    return labels, names, crops


def synthesize(backgrounds: Path, plates: list[Path], out: Path, n: int, seed: int = 0,
               exclude: set[tuple[str, str]] | None = None, synth_share: float = 0.5,
               include: set[tuple[str, str]] | None = None, close_up_share: float = 0.0,
               unboxed: Path | None = None, gray: bool = False) -> Path:
    """Write n scenes to out/images + out/labels.csv; `close_up_share` of them close-ups (see make_scene).

    `exclude` holds (folder name, image) pairs never used, as background or as pasted plate (held-out splits);
    `include`, when given, the only ones used of the folders it names (to build a test set from held-out frames
    and crops, or a validation set from the validation crops pasted into training frames). `unboxed`: a CSV
    image,x1,y1,x2,y2 of the real plates the background labels leave out; they become textless plate boxes
    (otherwise a scene would teach the detector that they are background) and nothing is pasted over them.
    `gray`: the same scenes in greyscale (a monochrome or infrared camera's view).
    """
    labels, names, crops = load_sources(backgrounds, plates, exclude, include, unboxed)
    if plates and not crops and synth_share < 1:
        raise UserError(f"no plate crops left in {', '.join(str(p) for p in plates)} (all excluded)")
    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    result: dict[str, list[PlateBox]] = {}
    for i in range(n):
        name = names[int(rng.integers(len(names)))]
        frame = read_bgr(dataset_image(backgrounds / "labels.csv", name))
        if frame.mean() < 3:  # all-black frames
            continue
        scene = make_scene(frame, labels[name], crops, rng, synth_share=synth_share,
                           close_up=close_up_share > 0 and bool(rng.random() < close_up_share))
        out_name = f"scene_{i:06d}.jpg"
        write_image(out / "images" / out_name, greyscale(scene.image) if gray else scene.image,
                   int(rng.integers(60, 95)))
        result[out_name] = list(scene.boxes)
    return write_box_labels(result, out / "labels.csv")


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = entry_parser(__doc__)
    ap.add_argument("--backgrounds", type=Path, required=True,
                    help="labels.csv folder of frames, or a YOLO, VOC or COCO export (its train split)")
    ap.add_argument("--plates", type=Path, nargs="*", default=[], help="crop folders (images/ + labels.csv, or "
                    "another tool's labels: ocr/label_files.py)")
    ap.add_argument("--exclude", type=Path, nargs="*", default=[],
                    help="split CSVs (dataset,image) of frames and crops never to use (held-out sets)")
    ap.add_argument("--include", type=Path, nargs="*", default=None,
                    help="split CSVs: of the folders they name, use only these frames and crops (a test set from "
                         "held-out data); folders they do not name stay unrestricted")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=at_least(1), default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--synth-share", type=fraction, default=0.5, help="share of rendered (vs real) plates")
    ap.add_argument("--close-up-share", type=fraction, default=0.0,
                    help="share of close-up scenes: frame zoomed in, one plate 30-85 %% of its width")
    ap.add_argument("--unboxed", type=Path, help="CSV image,x1,y1,x2,y2: real plates the background labels leave "
                                                  "out (e.g. configs/splits/dashcam_train_unboxed.csv)")
    ap.add_argument("--gray", action="store_true", help="write the same scenes in greyscale (monochrome/IR cameras)")
    args = ap.parse_args(argv)

    def work() -> None:
        from ocr.data import read_split_file

        exclude = read_split_file(args.exclude)  # the split files' pairs together
        include = None if args.include is None else read_split_file(args.include)
        out = fresh_output(args.out)
        path = synthesize(args.backgrounds, args.plates, out, args.n, args.seed, exclude, args.synth_share,
                          include, args.close_up_share, args.unboxed, args.gray)
        logger.info(f"wrote scenes to {path}")

    return run_main(work, on_interrupt=unfinished(args.out))


if __name__ == "__main__":
    raise SystemExit(main())
