"""Frames in, PoseSample out: recorded and live frame sources, the MediaPipe estimator
and its model files."""
