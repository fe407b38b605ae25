"""Video/camera pipeline: detector -> tracker -> recognizer -> fusion -> sinks; see issue 5; not built yet."""
