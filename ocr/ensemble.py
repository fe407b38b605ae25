"""Several OCR models reading every crop, their reads combined by sequences.

Each model reads the crop; each model's read is a candidate, scored by its CTC log-likelihood summed over the models
(all alignments: a model that places the characters on other frames scores the same string alike), and the best
wins (`ocr.views.pick`, the rule the test-time views use). Averaging posteriors frame by frame would only work for
models that emit on the same frames; two models trained apart do not (bench/results/ocr_ensemble2_val.txt).
The winning read's posterior is that of the model that read it most surely, so everything downstream (decoding,
confidences, fusion of a track's reads) sees one model's own T x C posterior.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError
from ocr.recognizer import PlateRead, Recognizer
from ocr.views import pick


class EnsembleRecognizer(Recognizer):
    """`EnsembleRecognizer([rec_a, rec_b])(crops) -> list[PlateRead]`: recognizers of one alphabet and input size,
    the first one's decoder and patterns for every read."""

    def __init__(self, members: Sequence[Recognizer]) -> None:
        if len(members) < 2:
            raise UserError("an OCR ensemble needs two or more models")
        first = members[0]
        for m in members[1:]:
            for key in ("alphabet", "img_h", "img_w", "two_row_aspect"):
                if getattr(m.cfg, key) != getattr(first.cfg, key):
                    raise UserError(f"OCR ensemble: {m.source or 'a model'} has {key}={getattr(m.cfg, key)!r}, "
                                    f"{first.source or 'the first'} {getattr(first.cfg, key)!r}: they must match")
        super().__init__(first.cfg, first._run, first.patterns, first.decoder, first.beam_width, first.max_batch)
        self.members = tuple(members)
        self._winners: dict[bytes, PlateRead] = {}  # the last batch's winning posteriors, as they were decoded
        self.best_seq_acc = first.best_seq_acc
        self.precision = "+".join(m.precision for m in members)
        self.source = "+".join(m.source for m in members)

    def probs(self, crops: list[np.ndarray]) -> np.ndarray:
        """B x T x C: per crop, the posterior of the model whose read wins (see the module's docstring)."""
        return self.combine(np.stack([m.probs(crops) for m in self.members], axis=1))

    def combine(self, stacked: np.ndarray) -> np.ndarray:
        """The members' posteriors of a batch, B x M x T x C, to B x T x C: per crop the winning model's."""
        out, self._winners = [], {}
        for per_model in stacked:
            reads = [super(EnsembleRecognizer, self).decode(p) for p in per_model]
            i = pick(per_model, [r.text for r in reads], [r.confidence for r in reads], self.cfg.alphabet)
            out.append(per_model[i])
            self._winners[per_model[i].astype(np.float32).tobytes()] = reads[i]
        return np.stack(out) if out else stacked[:, 0]

    def decode(self, probs: np.ndarray) -> PlateRead:
        """A winning posterior of the last batch is not decoded again (the beam search costs); any other is."""
        read = self._winners.get(probs.tobytes()) if probs.dtype == np.float32 else None  # tobytes: C order, any view
        return read if read is not None else super().decode(probs)


def load_recognizer(paths: Sequence[str | Path], **kwargs: Any) -> Recognizer:
    """One checkpoint's `Recognizer.from_checkpoint(path, **kwargs)`, or an `EnsembleRecognizer` of several."""
    recs = [Recognizer.from_checkpoint(p, **kwargs) for p in paths]
    return recs[0] if len(recs) == 1 else EnsembleRecognizer(recs)
