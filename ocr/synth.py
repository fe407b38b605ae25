"""Synthetic plate crops: render a layout, put it in a scene-like surround, degrade it; write datasets.

    python ocr/synth.py --out data_gen/digits_test --n 2000 --mix digits --seed 1
    python ocr/synth.py --out data_gen/latin_val --n 1000 --mix latin --seed 2
    python ocr/synth.py --out my_plates --n 500 --mix us=0.7,eu=0.3

writes `OUT/images/*.jpg` and `OUT/labels.csv` (`image,plate_text`), the format of `../shared/data/`.
"""
from __future__ import annotations

if __package__ in (None, ""):  # allow `python ocr/synth.py`
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import csv
from pathlib import Path

import cv2
import numpy as np

from common.cli import at_least, entry_parser, run_main, unfinished
from common.errors import UserError
from common.paths import fresh_output, written_whole
from ocr.augment import augment, perspective
from ocr.process import write_image
from ocr.synth_glyphs import FONT_SETS, char_fonts
from ocr.synth_formats import format_chars, format_groups, is_format, render_format
from ocr.synth_render import LAYOUT_CHARS, LAYOUTS, RENDERERS

MIXES: dict[str, dict[str, float]] = {
    "digits": {"digits11": 1.0},
    "latin": {"us": 0.45, "eu": 0.12, "br_old": 0.06, "br_mercosur": 0.06, "ar_old": 0.12,
              "ar_mercosur": 0.12, "two_row": 0.07},
}


def mix_for(alphabet: str) -> dict[str, float]:
    """The preset mix whose plates use `alphabet`: `digits` for the 10 digits, else `latin`."""
    return MIXES["digits" if alphabet == "0123456789" else "latin"]


def layout_chars(name: str) -> str:
    """The characters a layout's plates are drawn from (a format's: its codes' and fixed characters)."""
    return format_chars(name) if is_format(name) else LAYOUT_CHARS[name]


def parse_mix(spec: str) -> dict[str, float]:
    """A preset name (`digits`, `latin`) or `layout=weight,...`, where a layout may be a preset (its layouts share its
    weight as the preset shares them) or a format of the user's (`fmt:LL DD LLL`: ocr/synth_formats.py)."""
    if spec in MIXES:
        return MIXES[spec]
    mix: dict[str, float] = {}
    for part in spec.split(","):
        name, _, w = part.partition("=")
        name = name.strip()
        if name not in RENDERERS and name not in MIXES and not is_format(name):
            raise UserError(f"unknown synthetic layout '{name}' (known: {', '.join(LAYOUTS)}; the presets "
                            f"{', '.join(MIXES)}; or a format of your plates, fmt:LL DD LLL)")
        if is_format(name):
            format_groups(name)  # a format that cannot be drawn: said now, not at the first draw
        try:
            weight = float(w or 1.0)
        except ValueError:
            raise UserError(f"layout weight '{w}' for '{name}' is not a number") from None
        if not 0 <= weight < float("inf"):
            raise UserError(f"layout weight {w} for '{name}' must be 0 or more")
        preset = MIXES.get(name, {name: 1.0})
        for layout, share in preset.items():
            mix[layout] = mix.get(layout, 0.0) + weight * share / sum(preset.values())
    if not sum(mix.values()) > 0:
        raise UserError(f"synthetic mix '{spec}': every layout weighs 0, so none would be drawn")
    return mix


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.integers(0, 256, 3).astype(np.float32)
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = base
    bg += rng.normal(0, rng.uniform(2, 25), (h, w, 1))
    for _ in range(int(rng.integers(0, 5))):  # bumper edges, lamps, frame bars
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.rectangle(bg, p1, p2, tuple(float(v) for v in rng.integers(0, 256, 3)), int(rng.choice([-1, 2, 4])))
    return np.clip(bg, 0, 255).astype(np.uint8)


def _occlude(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small bolt, frame bar or dirt patch over the plate's edge region."""
    h, w = img.shape[:2]
    col = tuple(int(v) for v in rng.integers(0, 256, 3))
    if rng.random() < 0.5:
        y = int(rng.choice([rng.integers(0, max(1, h // 6)), rng.integers(5 * h // 6, h)]))
        cv2.rectangle(img, (0, y), (w, y + int(rng.integers(2, max(3, h // 10)))), col, -1)
    else:
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.circle(img, (cx, cy), int(rng.integers(2, max(3, h // 10))), col, -1)
    return img


def synth_sample(rng: np.random.Generator, mix: dict[str, float],
                 fonts: tuple[str, ...] = ()) -> tuple[np.ndarray, str]:
    """One degraded synthetic crop (BGR) and its text; its characters in one of `fonts` (default: the TrueType
    faces, `synth_glyphs.char_fonts`)."""
    names = list(mix)
    p = np.array([mix[n] for n in names], np.float64)
    name = names[int(rng.choice(len(names), p=p / p.sum()))]
    plate = render_format(name, rng, fonts) if is_format(name) else RENDERERS[name](rng, fonts)
    img = plate.image
    h, w = img.shape[:2]
    # surround: at least 4 % per side so perspective and jitter never cut a character off (the label must stay
    # fully visible), up to 25 % for loose crops
    m = (rng.uniform(0.04, 0.25 if rng.random() < 0.8 else 0.06, 4) * np.array([h, h, w, w])).astype(int)
    canvas = _background(h + m[0] + m[1], w + m[2] + m[3], rng)
    canvas[m[0]:m[0] + h, m[2]:m[2] + w] = img
    if rng.random() < 0.2:
        canvas = _occlude(canvas, rng)
    canvas = perspective(canvas, rng, 0.03, 4.0)
    scale = rng.uniform(0.25, 1.0)  # far plates are small
    canvas = cv2.resize(canvas, (max(16, int(canvas.shape[1] * scale)), max(8, int(canvas.shape[0] * scale))),
                        interpolation=cv2.INTER_AREA)
    return augment(canvas, rng, "medium", plate.chars_across), plate.text


def write_dataset(out: Path, n: int, mix: dict[str, float], seed: int, fonts: tuple[str, ...] = ()) -> Path:
    """Write n crops to out/images and out/labels.csv (characters in `fonts`, default the TrueType faces); returns
    the labels path."""
    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)

    def draw(part: Path) -> None:
        with part.open("w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(["image", "plate_text"])
            for i in range(n):
                img, text = synth_sample(rng, mix, fonts)
                name = f"{text}_{i}.jpg"  # the guide's layout: the label is the stem before "_"
                write_image(out / "images" / name, img)
                wr.writerow([name, text])

    return written_whole(out / "labels.csv", draw)  # named so once every plate is drawn: a stopped set is no set


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = entry_parser(__doc__)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--n", type=at_least(1), default=1000)
    ap.add_argument("--mix", default="latin", help="preset (digits, latin) or layout=weight,...")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fonts", default="ttf",
                    help=f"character faces: {', '.join(FONT_SETS)} or several joined by + (ttf+plate): ttf (TrueType, "
                         "the default), stroke (OpenCV's Hershey faces), plate and round (our own plate faces)")
    args = ap.parse_args(argv)

    def work() -> None:
        labels = write_dataset(fresh_output(args.out), args.n, parse_mix(args.mix), args.seed, char_fonts(args.fonts))
        logger.info(f"wrote {args.n} synthetic plates to {labels}")

    return run_main(work, on_interrupt=unfinished(args.out))


if __name__ == "__main__":
    raise SystemExit(main())
