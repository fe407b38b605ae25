"""Plates transcribed in Label Studio (its OCR template), read from its JSON export as samples (`ocr/label_files.py`).

The export is a list of tasks, each its image (`data`) and its annotations, whose `textarea` results hold a plate's
text and, per region, its box in percent of the image (`x`, `y`, `width`, `height`, `rotation` about the box's top
left corner). A transcription without a region is the whole image's: a plate crop. An image is looked for by its
file name beside the export (or in its `images/`), also without the prefix Label Studio gives an upload
(`3f2a1b2c-car.jpg` for `car.jpg`), and at a local file's own path (`/data/local-files/?d=plates/car.jpg`).
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from common.errors import UserError
from common.paths import read_json

UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")  # Label Studio's prefix on an uploaded file's name


def tasks_of(path: Path) -> list[dict[str, Any]] | None:
    """The tasks of a Label Studio JSON export, None for another JSON (or no JSON)."""
    data = read_json(path)  # parsed once: a folder's label files are looked at, then read
    ok = isinstance(data, list) and bool(data) and all(isinstance(t, dict) and "data" in t for t in data)
    return data if ok else None


def label_studio_samples(path: Path) -> list[tuple[Any, str]]:
    """(Sample, what is wrong) of each plate transcribed in the export `path`."""
    from ocr.label_files import Sample

    tasks = tasks_of(path)
    if tasks is None:
        raise UserError(f"{path}: not a Label Studio JSON export (a list of tasks, each its data and annotations)")
    out: list[tuple[Any, str]] = []
    for n, task in enumerate(tasks, start=1):
        image = _image(path, task.get("data", {}))
        where = f"{path} task {task.get('id', n)}"
        done = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        for result in (done[0].get("result") or []) if done else []:
            value = result.get("value") if isinstance(result, dict) else None
            if not isinstance(value, dict) or "text" not in value:
                continue  # a region's label or box: its text comes in the region's textarea result
            text = "".join(value["text"]) if isinstance(value["text"], list) else str(value["text"])
            box, bad = _box(value, result) if "width" in value else (None, "")
            out.append((Sample(image, text, box, where), bad))
    return out


def _image(path: Path, data: dict[str, Any]) -> Path:
    """The task's image on this disk; where it was looked for first when it is nowhere."""
    url = next((v for v in data.values() if isinstance(v, str)), "")
    local = parse_qs(urlsplit(url).query).get("d", [""])[0]  # /data/local-files/?d=plates/car.jpg
    name = unquote(Path(urlsplit(url).path).name)
    names = [name, UPLOAD_PREFIX.sub("", name)]
    places = [path.parent / local] if local else []
    places += [base / n for n in names for base in (path.parent, path.parent / "images")]
    return next((p for p in places if p.is_file()), places[0])


def _box(value: dict[str, Any], result: dict[str, Any]) -> tuple[tuple[int, int, int, int] | None, str]:
    """A region's box in pixels (the bounds of a turned one), from percent of the image's size."""
    try:
        w, h = float(result["original_width"]), float(result["original_height"])
        x, y, bw, bh = (float(value[k]) for k in ("x", "y", "width", "height"))
        turn = math.radians(float(value.get("rotation") or 0))
    except (KeyError, TypeError, ValueError):
        return None, "a region without x, y, width, height (percent) and original_width, original_height"
    x, y, bw, bh = x * w / 100, y * h / 100, bw * w / 100, bh * h / 100  # in pixels, where a turn keeps its shape
    corners = [(cx * math.cos(turn) - cy * math.sin(turn), cx * math.sin(turn) + cy * math.cos(turn))
               for cx, cy in ((0, 0), (bw, 0), (bw, bh), (0, bh))]
    xs, ys = [x + cx for cx, _ in corners], [y + cy for _, cy in corners]
    x1, y1 = max(0, round(min(xs))), max(0, round(min(ys)))
    x2, y2 = min(round(w), round(max(xs))), min(round(h), round(max(ys)))
    if x2 <= x1 or y2 <= y1:
        return None, f"an empty region ({x1},{y1},{x2},{y2})"
    return (x1, y1, x2, y2), ""
