"""Several OCR models reading every crop, their reads combined by sequences.

Each model reads the crop; each model's read is a candidate, scored by its CTC log-likelihood summed over the models
(all alignments: a model that places the characters on other frames scores the same string alike), and the best
wins (`ocr.views.pick`, the rule the test-time views use). Averaging posteriors frame by frame would only work for
models that emit on the same frames; two models trained apart do not (bench/results/ocr_ensemble2_val.txt).
The winning read's posterior is that of the model that read it most surely, so everything downstream (decoding,
confidences, fusion of a track's reads) sees one model's own T x C posterior.

As a cascade (`below` < 1), the other models read only the crops that the first model reads with a confidence
below `below`; a surer read of the first model stands alone (bench/ocr_cascade.py measures what that keeps).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError
from ocr.model import ModelConfig
from ocr.recognizer import PlateRead, Recognizer
from ocr.views import pick


class EnsembleRecognizer(Recognizer):
    """`EnsembleRecognizer([rec_a, rec_b], below=1.0)(crops) -> list[PlateRead]`: recognizers of one alphabet and
    input size, the first one's decoder and patterns for every read; with `below` < 1 the others read only the
    crops the first reads with a confidence below it."""

    def __init__(self, members: Sequence[Recognizer], below: float = 1.0) -> None:
        if len(members) < 2:
            raise UserError("an OCR ensemble needs two or more models")
        if not 0.0 <= below <= 1.0:
            raise UserError(f"OCR ensemble: below must be in [0, 1] (1 = every crop read by every model), not {below}")
        first = members[0]
        check_alike([(m.source or ("the first" if m is first else "a model"), m.cfg) for m in members])
        super().__init__(first.cfg, first._run, first.patterns, first.decoder, first.beam_width, first.max_batch)
        self.members, self.below = tuple(members), float(below)
        self._winners: dict[bytes, PlateRead] = {}  # the last batch's winning posteriors, as they were decoded
        self.best_seq_acc = first.best_seq_acc
        self.precision = "+".join(m.precision for m in members)
        self.source = "+".join(m.source for m in members)
        self.crops_read = self.crops_second = 0  # crops read, and of them read by the other models too

    def probs(self, crops: list[np.ndarray]) -> np.ndarray:
        """B x T x C: per crop, the posterior of the model whose read wins (see the module's docstring)."""
        self._winners = {}
        if self.below >= 1.0:
            self._count(len(crops), len(crops))
            return self.combine(np.stack([m.probs(crops) for m in self.members], axis=1))
        out = self.members[0].probs(crops)
        reads = [self._decode_afresh(p) for p in out]
        unsure = [i for i, r in enumerate(reads) if r.confidence < self.below]
        self._count(len(crops), len(unsure))
        for p, r in zip(out, reads):
            self._winners[p.astype(np.float32).tobytes()] = r
        if unsure:
            others = [m.probs([crops[i] for i in unsure]) for m in self.members[1:]]
            out[unsure] = self.combine(np.stack([out[unsure], *others], axis=1), [reads[i] for i in unsure])
        return out

    def combine(self, stacked: np.ndarray, first: list[PlateRead] | None = None) -> np.ndarray:
        """The members' posteriors of a batch, B x M x T x C, to B x T x C: per crop the winning model's; `first`: the
        first model's reads of the batch when they are decoded already. The winners' reads are kept for `decode`
        until the next `probs` call."""
        out = []
        for k, per_model in enumerate(stacked):
            reads = [self._decode_afresh(p) for p in per_model[1:]]
            reads.insert(0, first[k] if first is not None else self._decode_afresh(per_model[0]))
            i = pick(per_model, [r.text for r in reads], [r.confidence for r in reads], self.cfg.alphabet)
            out.append(per_model[i])
            self._winners[per_model[i].astype(np.float32).tobytes()] = reads[i]
        return np.stack(out) if out else stacked[:, 0]

    def decode(self, probs: np.ndarray) -> PlateRead:
        """A winning posterior of the last batch is not decoded again (the beam search costs); any other is."""
        read = self._winners.get(probs.tobytes()) if probs.dtype == np.float32 else None  # tobytes: C order, any view
        return read if read is not None else self._decode_afresh(probs)

    @property
    def second_share(self) -> float | None:
        """The share of the crops read so far that the other models read too (1 unless a cascade); None before any."""
        return round(self.crops_second / self.crops_read, 4) if self.crops_read else None

    def _decode_afresh(self, probs: np.ndarray) -> PlateRead:
        return super().decode(probs)

    def _count(self, n: int, second: int) -> None:
        self.crops_read += n
        self.crops_second += second


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """`--ensemble W [W ...]` and `--ensemble-below T` for a command that reads with `--weights`
    (`load_recognizer([args.weights, *args.ensemble], args.ensemble_below, ...)`)."""
    ap.add_argument("--ensemble", nargs="+", default=[], metavar="W",
                    help="more checkpoints read beside --weights, the likeliest read kept (ocr/ensemble.py)")
    ap.add_argument("--ensemble-below", type=float, default=1.0, metavar="T",
                    help="with --ensemble: the other models read only the crops --weights reads with a confidence "
                         "below T (a cascade); 1 = every crop")


def check_alike(models: Sequence[tuple[str, ModelConfig]]) -> None:
    """The models of an ensemble (each named, with its config) read one alphabet at one input size; else a
    UserError naming the first that differs."""
    first, cfg = models[0]
    for name, other in models[1:]:
        for key in ("alphabet", "img_h", "img_w", "two_row_aspect"):
            if getattr(other, key) != getattr(cfg, key):
                raise UserError(f"OCR ensemble: {name} has {key}={getattr(other, key)!r}, {first} "
                                f"{getattr(cfg, key)!r}: they must match")


def load_recognizer(paths: Sequence[str | Path], below: float = 1.0, **kwargs: Any) -> Recognizer:
    """One checkpoint's `Recognizer.from_checkpoint(path, **kwargs)`, or an `EnsembleRecognizer` of several (the
    others reading only the first's reads less sure than `below`, when it is under 1)."""
    if below < 1 and len(paths) < 2:
        raise UserError(f"a cascade below {below:g} needs a second OCR model to ask, and only {paths[0]} is given")
    recs = [Recognizer.from_checkpoint(p, **kwargs) for p in paths]
    return recs[0] if len(recs) == 1 else EnsembleRecognizer(recs, below)
