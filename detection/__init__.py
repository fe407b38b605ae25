"""Plate detection (YOLO via ultralytics): see issue 4; not built yet."""
