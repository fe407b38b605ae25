"""Plate detection: a YOLO detector (ultralytics) behind `PlateDetector`, its data tools and training driver."""
from detection.config import DetectorConfig
from detection.detections import Detections
from detection.detector import PlateDetector

__all__ = ["DetectorConfig", "Detections", "PlateDetector"]
