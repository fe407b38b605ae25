"""OCR ensemble: reads combined by sequences, whatever frames each model emits on."""
from __future__ import annotations

import numpy as np
import pytest

from common.errors import UserError
from ocr.ensemble import EnsembleRecognizer
from ocr.model import ModelConfig
from ocr.recognizer import Recognizer

LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BLANK = len(LATIN)


def posterior(frames: dict[int, dict[str, float]]) -> np.ndarray:
    """T x C log-posterior: blank on every frame but `frames` (see `model`)."""
    probs = np.full((50, len(LATIN) + 1), 1e-6, np.float32)
    probs[:, BLANK] = 1.0
    for t, chars in frames.items():
        probs[t, BLANK] = 1.0 - sum(chars.values())
        for ch, p in chars.items():
            probs[t, LATIN.index(ch)] = p
    return np.log(probs)


def model(frames: dict[int, dict[str, float]], cfg: ModelConfig = ModelConfig(alphabet=LATIN)) -> Recognizer:
    """A recognizer whose every crop gets the same posterior: blank on every frame but `frames`, where the given
    characters have the given probabilities (the rest of the frame blank)."""
    logits = posterior(frames)
    return Recognizer(cfg, lambda x: np.repeat(logits[None], len(x), axis=0))


CROPS = [np.zeros((40, 120, 3), np.uint8)] * 2


def test_models_on_different_frames_agree_by_sequence_not_by_frame():
    early = model({2: {"A": 0.95}, 6: {"B": 0.95}, 10: {"1": 0.95}, 14: {"2": 0.95}})
    late = model({30: {"A": 0.95}, 34: {"B": 0.95}, 38: {"1": 0.95}, 42: {"2": 0.95}})
    frame_mean = (early.probs(CROPS[:1]) + late.probs(CROPS[:1])) / 2
    assert early.decode(frame_mean[0]).text == ""  # averaged frame by frame, every character drowns in the blank
    assert [r.text for r in EnsembleRecognizer([early, late])(CROPS)] == ["AB12", "AB12"]


def test_the_read_both_models_find_likelier_wins_with_its_surest_models_posterior():
    # model a reads AB12 surely; model b reads AB17 (0.5) but gives AB12 0.45 on its last frame
    a = model({2: {"A": 0.95}, 6: {"B": 0.95}, 10: {"1": 0.95}, 14: {"2": 0.9, "7": 0.05}})
    b = model({3: {"A": 0.95}, 7: {"B": 0.95}, 11: {"1": 0.95}, 15: {"7": 0.5, "2": 0.45}})
    assert b(CROPS[:1])[0].text == "AB17"
    reads = EnsembleRecognizer([b, a])(CROPS[:1])
    assert reads[0].text == "AB12"
    assert reads[0].char_confidences == pytest.approx((0.95, 0.95, 0.95, 0.9), abs=1e-3)  # model a's own posterior


def test_a_sure_read_of_one_model_beats_an_unsure_one_of_the_other():
    a = model({2: {"Z": 0.9, "2": 0.05}, 6: {"9": 0.9}})
    b = model({2: {"2": 0.45, "Z": 0.4}, 6: {"9": 0.9}})
    assert [r.text for r in EnsembleRecognizer([b, a])(CROPS[:1])] == ["Z9"]


def test_models_of_other_alphabets_or_input_sizes_are_refused():
    a = model({2: {"A": 0.9}})
    digits = Recognizer(ModelConfig(alphabet="0123456789"), lambda x: np.zeros((len(x), 50, 11), np.float32))
    with pytest.raises(UserError, match="alphabet"):
        EnsembleRecognizer([a, digits])
    with pytest.raises(UserError, match="two or more"):
        EnsembleRecognizer([a])


def test_load_recognizer_builds_one_model_or_an_ensemble_from_checkpoints(tiny_ckpt, crops):
    from ocr.ensemble import load_recognizer

    one = load_recognizer([tiny_ckpt], device="cpu", backend="torch")
    pair = load_recognizer([tiny_ckpt, tiny_ckpt], device="cpu", backend="torch")
    assert type(one) is Recognizer and isinstance(pair, EnsembleRecognizer)
    assert pair.source == f"{tiny_ckpt}+{tiny_ckpt}"
    assert [r.text for r in pair(crops)] == [r.text for r in one(crops)]  # a model with itself: its own reads


def test_the_pipeline_config_names_the_cascade(tiny_ckpt):
    from pipeline.app import _recognizer
    from pipeline.config import PipelineConfig

    cfg = PipelineConfig(ocr_weights=str(tiny_ckpt), ocr_ensemble=(str(tiny_ckpt),), ocr_ensemble_below=0.5,
                         ocr_backend="torch")
    rec = _recognizer(cfg, ())
    assert isinstance(rec, EnsembleRecognizer) and rec.below == 0.5 and len(rec.members) == 2


def test_the_winning_read_is_not_decoded_again(monkeypatch):
    """The choice decodes each model's read; the caller's decode of the winning posterior reuses it (a beam search
    costs), while any other posterior (a track's mean, say) is decoded as usual."""
    a = model({2: {"A": 0.95}, 6: {"B": 0.95}})
    b = model({30: {"A": 0.95}, 34: {"B": 0.95}})
    ens = EnsembleRecognizer([a, b])
    calls = []
    decode = Recognizer.decode
    monkeypatch.setattr(Recognizer, "decode", lambda self, p: calls.append(1) or decode(self, p))
    probs = ens.probs(CROPS)
    assert len(calls) == 4  # two crops, two models each
    assert [ens.decode(p).text for p in probs] == ["AB", "AB"] and len(calls) == 4
    assert ens.decode((probs[0] + probs[1]) / 2 * 0.99).text == "AB" and len(calls) == 5


def by_brightness(dark: dict, bright: dict, seen: list[int]) -> Recognizer:
    """A recognizer reading dark crops as `dark`, bright ones as `bright`; `seen` gains each batch's size."""
    d, b = posterior(dark), posterior(bright)

    def run(x: np.ndarray) -> np.ndarray:
        seen.append(len(x))
        return np.stack([d if xi.mean() < 0 else b for xi in x])

    return Recognizer(ModelConfig(alphabet=LATIN), run)


def test_a_cascade_asks_the_other_model_only_about_the_first_ones_unsure_reads(monkeypatch):
    dark, bright = np.zeros((40, 120, 3), np.uint8), np.full((40, 120, 3), 255, np.uint8)
    first_seen, other_seen = [], []
    # the first model reads dark crops AB12 surely (0.95^4 = 0.81) and bright ones AB17 unsurely (0.43); the other
    # reads both AB12 surely
    first = by_brightness({2: {"A": 0.95}, 6: {"B": 0.95}, 10: {"1": 0.95}, 14: {"2": 0.95}},
                          {3: {"A": 0.95}, 7: {"B": 0.95}, 11: {"1": 0.95}, 15: {"7": 0.5, "2": 0.45}}, first_seen)
    sure12 = {2: {"A": 0.95}, 6: {"B": 0.95}, 10: {"1": 0.95}, 14: {"2": 0.9, "7": 0.05}}
    other = by_brightness(sure12, sure12, other_seen)
    decoded, decode = [], Recognizer.decode
    monkeypatch.setattr(Recognizer, "decode", lambda self, p: decoded.append(1) or decode(self, p))
    reads = EnsembleRecognizer([first, other], below=0.5)([dark, bright, dark])
    assert [r.text for r in reads] == ["AB12", "AB12", "AB12"]
    assert len(decoded) == 4  # the first model's three reads, each once, and the other's one
    monkeypatch.undo()
    assert first_seen == [3] and other_seen == [1]  # the other model read the bright crop alone
    assert reads[1].char_confidences == pytest.approx((0.95, 0.95, 0.95, 0.9), abs=1e-3)  # its own posterior
    assert reads[0].confidence == pytest.approx(0.95 ** 4, abs=1e-3)
    # below the unsure read's confidence, the first model's read stands and the other is never asked
    other_seen.clear()
    low = EnsembleRecognizer([first, other], below=0.4)
    assert [r.text for r in low([dark, bright])] == ["AB12", "AB17"] and other_seen == []
    assert (low.crops_read, low.crops_second, low.second_share) == (2, 0, 0.0)
    # below=1: every crop read by both, as the plain ensemble
    every = EnsembleRecognizer([first, other])
    assert [r.text for r in every([dark, bright])] == ["AB12", "AB12"] and other_seen == [2]
    assert (every.crops_read, every.crops_second, every.second_share) == (2, 2, 1.0)
    assert EnsembleRecognizer([first, other]).second_share is None  # nothing read yet
    with pytest.raises(UserError, match="below must be in"):
        EnsembleRecognizer([first, other], below=1.5)


def test_the_winning_posterior_is_the_winning_model_s_own():
    """The batch's posterior of a crop is the one of the model whose read won, whichever place it has."""
    a = model({2: {"A": 0.95}, 6: {"B": 0.95}, 10: {"1": 0.95}, 14: {"2": 0.9, "7": 0.05}})
    b = model({3: {"A": 0.95}, 7: {"B": 0.95}, 11: {"1": 0.95}, 15: {"7": 0.5, "2": 0.45}})
    for members in ([a, b], [b, a], [b, b, a]):
        probs = EnsembleRecognizer(members).probs(CROPS[:1])
        assert np.array_equal(probs[0], a.probs(CROPS[:1])[0])


def test_the_cascade_s_bound_and_its_refusals(tiny_ckpt):
    from ocr.ensemble import load_recognizer

    a = model({2: {"A": 0.95}, 6: {"B": 0.95}})
    b = model({30: {"Z": 0.95}})
    sure = a(CROPS[:1])[0].confidence
    at = EnsembleRecognizer([a, b], below=sure)
    at(CROPS[:1])
    assert at.crops_second == 0  # a read exactly as sure as `below` stands alone
    assert EnsembleRecognizer([a, b], below=0.0).below == 0.0 and EnsembleRecognizer([a, b], below=1.0).below == 1.0
    for below in (-0.01, 1.01):
        with pytest.raises(UserError) as exc:
            EnsembleRecognizer([a, b], below=below)
        assert str(exc.value) == ("OCR ensemble: below must be in [0, 1] (1 = every crop read by every model), "
                                  f"not {below}")
    with pytest.raises(UserError) as exc:
        load_recognizer([tiny_ckpt], below=0.99)
    assert str(exc.value) == f"a cascade below 0.99 needs a second OCR model to ask, and only {tiny_ckpt} is given"


def test_a_mismatch_names_both_models_and_what_differs():
    a = model({2: {"A": 0.9}})
    wide = Recognizer(ModelConfig(alphabet=LATIN, img_w=256), lambda x: np.zeros((len(x), 64, 37), np.float32))
    wide.source, a.source = "wide.pth", "a.pth"
    with pytest.raises(UserError) as exc:
        EnsembleRecognizer([a, model({2: {"B": 0.9}}), wide])  # the third model differs
    assert str(exc.value) == "OCR ensemble: wide.pth has img_w=256, a.pth 200: they must match"
    a.source = wide.source = ""
    with pytest.raises(UserError) as exc:
        EnsembleRecognizer([a, wide])
    assert str(exc.value) == "OCR ensemble: a model has img_w=256, the first 200: they must match"
