"""Photometric and geometric augmentation of plate crops: `medium` for synthetic, `heavy` for real images,
`ir` for an infrared night camera's view of a plate (grey, retroreflective glare, blur), `far` for a distant plate
(a few pixels per character), `motion` for a plate smeared by its car's motion, `interlaced` for an interlaced
camera's frame of a moving plate.

Pure functions of (BGR uint8 image, numpy Generator) -> BGR uint8 image.
"""
from __future__ import annotations

import cv2
import numpy as np

from ocr.process import greyscale, to_bgr


def perspective(img: np.ndarray, rng: np.random.Generator, amount: float, rotate_deg: float) -> np.ndarray:
    """Random corner jitter (fraction of size) and rotation; borders replicate."""
    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    jitter = rng.uniform(-amount, amount, (4, 2)) * np.array([w, h], np.float32)
    dst = src + jitter.astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    r = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-rotate_deg, rotate_deg)), 1.0)
    m = np.vstack([r, [0, 0, 1]]) @ m
    return cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def roll(img: np.ndarray, rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """Rotate by up to `max_deg` on a canvas grown to the rotated plate's bounding box, as a detector frames a
    rolled plate (the whole plate inside, background in the corners); corners reflect the border."""
    h, w = img.shape[:2]
    ang = float(rng.uniform(-max_deg, max_deg))
    c, s = abs(np.cos(np.deg2rad(ang))), abs(np.sin(np.deg2rad(ang)))
    W, H = int(round(w * c + h * s)), int(round(w * s + h * c))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
    m[:, 2] += ((W - w) / 2, (H - h) / 2)
    return cv2.warpAffine(img, m, (W, H), borderMode=cv2.BORDER_REFLECT_101)


def crop_jitter(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Cut or pad each side by up to `amount` of the size (pads replicate the border)."""
    h, w = img.shape[:2]
    d = (rng.uniform(-amount, amount, 4) * np.array([h, h, w, w])).astype(int)
    pad = np.maximum(-d, 0)
    img = cv2.copyMakeBorder(img, int(pad[0]), int(pad[1]), int(pad[2]), int(pad[3]), cv2.BORDER_REPLICATE)
    cut = np.maximum(d, 0)
    H, W = img.shape[:2]
    out = img[cut[0]:H - cut[1], cut[2]:W - cut[3]]
    return out if out.shape[0] >= 8 and out.shape[1] >= 16 else img


def photometric(img: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Brightness, contrast, gamma, colour shift, and sometimes greyscale or inversion of tones."""
    x = img.astype(np.float32)
    x = (x - 128) * rng.uniform(1 - 0.5 * strength, 1 + 0.4 * strength) + 128 + rng.uniform(-50, 50) * strength
    x += rng.uniform(-20, 20, 3) * strength
    x = np.clip(x, 0, 255)
    gamma = rng.uniform(1 - 0.4 * strength, 1 + 0.6 * strength)
    x = 255.0 * (x / 255.0) ** gamma
    if rng.random() < 0.3 * strength:  # shadow / light gradient across the plate
        g = np.linspace(rng.uniform(0.4, 1.0), rng.uniform(0.8, 1.2), x.shape[1], dtype=np.float32)
        x = x * (g[None, :, None] if rng.random() < 0.5 else g[::-1][None, :, None])
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:
        out = greyscale(out)
    return out


def infrared(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A night camera's infrared view: grey, a steep tone curve (the retroreflective plate glows, the rest is
    dark), sometimes glare blooming around bright strokes (bright characters thicken and merge)."""
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
    g = g ** float(rng.uniform(0.5, 1.6))
    mean = float(g.mean())
    g = (g - mean) * float(rng.uniform(1.0, 2.0)) + mean + float(rng.uniform(-0.1, 0.25))
    if rng.random() < 0.5:
        sigma = float(rng.uniform(0.02, 0.06)) * img.shape[0]
        glow = cv2.GaussianBlur(np.clip(g - 0.6, 0, None), (0, 0), sigma)
        g = g + glow * float(rng.uniform(0.8, 2.5))
    return to_bgr(np.clip(g * 255.0, 0, 255).astype(np.uint8))


def sensor_noise(img: np.ndarray, rng: np.random.Generator, max_sigma: float) -> np.ndarray:
    """Gaussian sensor noise, its sigma drawn in [2, `max_sigma`)."""
    return np.clip(img + rng.normal(0, rng.uniform(2, max_sigma), img.shape), 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, rng: np.random.Generator, q_min: int, q_max: int) -> np.ndarray:
    """JPEG artefacts: encoded and decoded at a quality drawn in [`q_min`, `q_max`)."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(q_min, q_max))])
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    return out if out is not None else img


MOTION_SHARE = (0.015, 0.10)  # motion blur length, as a share of the crop's width (any level's blur)
MOTION_LEVEL_SHARE = (0.03, 0.12)  # ... at the `motion` level
MOTION_CHARS = 7  # the shares are of a crop of a plate this many characters across (the real crops they were set on)


def motion_blur(img: np.ndarray, rng: np.random.Generator, share: tuple[float, float] = MOTION_SHARE,
                chars_across: int = MOTION_CHARS) -> np.ndarray:
    """The crop smeared along a line `share` of its width long, as a car passing a slow shutter smears its plate:
    within 15 degrees of the plate's rows four times in five, else at any angle. The length is relative, so a large
    crop is smeared as much as a small one (a plate moving its own width in 1/10 of the exposure, at most), and
    measured in characters: a plate with more than `MOTION_CHARS` characters across is smeared that much less, so
    that an 11-digit plate's smear spans no more of a character than a 7-character plate's (its label stays legible)."""
    k = max(3, round(img.shape[1] * rng.uniform(*share) * min(1.0, MOTION_CHARS / max(1, chars_across))))
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0
    angle = rng.uniform(-15, 15) if rng.random() < 0.8 else rng.uniform(0, 180)
    m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(angle), 1.0)
    kernel = cv2.warpAffine(kernel, m, (k, k))
    return cv2.filter2D(img, -1, (kernel / max(float(kernel.sum()), 1e-6)).astype(np.float32))


INTERLACE_SHARE = (0.005, 0.04)  # how far one field moves from the other, as a share of the crop's width


def comb(img: np.ndarray, shift: float, field: int = 1) -> np.ndarray:
    """An interlaced frame of a moving plate: the rows of one field (`field` 0: even, 1: odd) moved `shift` pixels
    along the rows against the other field (edges replicated), as a car moves between the two fields' exposures."""
    out = img.copy()
    rows = np.ascontiguousarray(img[field::2])
    m = np.array([[1, 0, shift], [0, 1, 0]], np.float32)
    out[field::2] = cv2.warpAffine(rows, m, (rows.shape[1], rows.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    return out


def blend_fields(img: np.ndarray) -> np.ndarray:
    """Each row averaged with its neighbours above and below (1/4, 1/2, 1/4), as a simple de-interlacer blends the
    two fields: a comb becomes a ghost."""
    return cv2.filter2D(img, -1, np.array([[0.25], [0.5], [0.25]], np.float32), borderType=cv2.BORDER_REPLICATE)


def interlace(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The crop as an interlaced camera gives it: one field moved 0.5-4 % of the width along the rows (either
    field, either way), and half the time the fields blended, as a simple de-interlacer does (a ghost, not a comb)."""
    shift = img.shape[1] * rng.uniform(*INTERLACE_SHARE) * (1 if rng.random() < 0.5 else -1)
    out = comb(img, float(shift), int(rng.integers(0, 2)))
    return blend_fields(out) if rng.random() < 0.5 else out


def blur_noise(img: np.ndarray, rng: np.random.Generator, strength: float,
               chars_across: int = MOTION_CHARS) -> np.ndarray:
    """Low resolution, gaussian or motion blur (`motion_blur`), sensor noise and JPEG artefacts."""
    h, w = img.shape[:2]
    if rng.random() < 0.5 * strength:  # low resolution: down then up
        f = rng.uniform(0.25, 0.7)
        small = cv2.resize(img, (max(8, int(w * f)), max(4, int(h * f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    r = rng.random()
    if r < 0.3 * strength:
        k = int(rng.choice([3, 5]))
        img = cv2.GaussianBlur(img, (k, k), 0)
    elif r < 0.55 * strength:
        img = motion_blur(img, rng, MOTION_SHARE, chars_across)
    if rng.random() < 0.5 * strength:
        img = sensor_noise(img, rng, 14)
    if rng.random() < 0.5 * strength:
        img = jpeg(img, rng, 15, 80)
    return img


def far(img: np.ndarray, rng: np.random.Generator, min_w: int = 32, max_w: int = 72) -> np.ndarray:
    """A distant plate: the crop as a far detector box gives it, `min_w`-`max_w` pixels wide (sensor noise and JPEG
    at that size), scaled back up. A crop already that small is kept as it is."""
    h, w = img.shape[:2]
    tw = int(rng.integers(min_w, max_w + 1))
    if w <= tw:
        return img
    th = max(4, round(h * tw / w))
    small = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        small = sensor_noise(small, rng, 8)
    if rng.random() < 0.5:
        small = jpeg(small, rng, 30, 90)
    interp = cv2.INTER_LINEAR if rng.random() < 0.7 else cv2.INTER_CUBIC
    return cv2.resize(small, (w, h), interpolation=interp)


def augment(img: np.ndarray, rng: np.random.Generator, level: str, chars_across: int = MOTION_CHARS) -> np.ndarray:
    """`none`, `medium` (synthetic), `heavy` (real images), `ir` (medium geometry, an infrared look, heavy blur
    and noise), `far` (medium geometry and tones, then shrunk to a distant plate's 32-72 px) or `motion` (medium,
    then smeared along the plate over 3-12 % of its width, as a passing car at a slow shutter; JPEG after) or
    `interlaced` (medium, then an interlaced camera's two fields moved apart: `interlace`). `chars_across`, where
    known (synthetic plates), scales motion smears to the characters (`motion_blur`)."""
    if level == "none":
        return img
    if level == "interlaced":
        return interlace(augment(img, rng, "medium", chars_across), rng)
    if level == "far":
        return far(augment(img, rng, "medium", chars_across), rng)
    if level == "motion":
        img = motion_blur(augment(img, rng, "medium", chars_across), rng, MOTION_LEVEL_SHARE, chars_across)
        return jpeg(img, rng, 30, 90) if rng.random() < 0.5 else img
    s = 1.0 if level == "heavy" else 0.5
    if rng.random() < 0.3 * s:
        img = roll(img, rng, 10.0)
    img = crop_jitter(img, rng, 0.08 * s if level == "heavy" else 0.03)
    if rng.random() < 0.7:
        img = perspective(img, rng, 0.06 * s, 6 * s)
    img = infrared(img, rng) if level == "ir" else photometric(img, rng, s)
    return blur_noise(img, rng, 1.0 if level == "ir" else s, chars_across)
