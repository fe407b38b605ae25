"""Detection metrics: IoU matching, recall/precision at an IoU threshold, AP50 (all-point interpolation)."""
from __future__ import annotations

import numpy as np


def intersection_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection area of every box in a (N x 4) with every box in b (M x 4), xyxy."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    return np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N x 4) with every box in b (M x 4), xyxy."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float64)
    inter = intersection_matrix(a, b)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def match(pred: np.ndarray, conf: np.ndarray, gt: np.ndarray, thr: float) -> np.ndarray:
    """Greedy matching in descending confidence: True where a prediction matched an unmatched GT at IoU >= thr."""
    order = np.argsort(-conf, kind="stable")
    ious = iou_matrix(pred, gt)
    used = np.zeros(len(gt), bool)
    tp = np.zeros(len(pred), bool)
    for i in order:
        if len(gt) == 0:
            break
        cand = np.where(~used, ious[i], -1.0)
        j = int(cand.argmax())
        if cand[j] >= thr:
            used[j], tp[i] = True, True
    return tp


def evaluate_boxes(images: list[tuple[np.ndarray, ...]], thr: float,
                   min_precision: float = 0.9) -> dict[str, float]:
    """images: (pred xyxy, pred conf, gt xyxy[, ignore xyxy]) per image -> recall, precision and AP at
    IoU >= thr, and the highest recall whose precision is >= min_precision with the confidence threshold that
    gives it (every prediction at or above it kept; recall 0.0 at conf 1.0 when none reaches it).
    An unmatched prediction on an ignore box (IoU >= thr: a real plate the labels leave out) counts neither
    way, as COCO's crowd regions."""
    tps, confs, n_gt = [], [], 0
    for pred, conf, gt, *ignore in images:
        tp = match(pred, conf, gt, thr)
        if ignore and len(ignore[0]):
            keep = tp | (iou_matrix(pred, ignore[0]).max(axis=1) < thr)
            tp, conf = tp[keep], conf[keep]
        tps.append(tp)
        confs.append(conf)
        n_gt += len(gt)
    tp = np.concatenate(tps) if tps else np.zeros(0, bool)
    conf = np.concatenate(confs) if confs else np.zeros(0)
    n_pred = len(tp)
    recall = tp.sum() / n_gt if n_gt else 0.0
    precision = tp.sum() / n_pred if n_pred else 0.0
    order = np.argsort(-conf, kind="stable")
    ctp = np.cumsum(tp[order])
    rec = ctp / max(n_gt, 1)
    prec = ctp / np.arange(1, n_pred + 1)
    mrec = np.concatenate([[0.0], rec, [1.0]])
    mpre = np.concatenate([[1.0], prec, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    ap = float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1])) if n_gt else 0.0
    sorted_conf = conf[order]
    last_of_tie = np.append(sorted_conf[1:] < sorted_conf[:-1], True)[:n_pred]  # a threshold keeps whole ties
    ok = np.where(last_of_tie & (prec >= min_precision))[0] if n_gt else np.zeros(0, int)
    best = ok[np.argmax(rec[ok])] if len(ok) else None
    return {"recall": float(recall), "precision": float(precision), "ap": ap,
            "recall_at_precision": float(rec[best]) if best is not None and rec[best] > 0 else 0.0,
            "conf_at_precision": float(sorted_conf[best]) if best is not None and rec[best] > 0 else 1.0}
