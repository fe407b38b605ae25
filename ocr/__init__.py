"""CRNN licence-plate recognizer: model, decoding, data, training, evaluation and export."""
from ocr.alphabet import PRESETS, Codec
from ocr.model import CRNN, ModelConfig
from ocr.recognizer import PlateRead, Recognizer, load_model, predict_image

__all__ = ["PRESETS", "Codec", "CRNN", "ModelConfig", "PlateRead", "Recognizer", "load_model", "predict_image"]
