"""posture-watch: webcam posture and break monitor."""

__version__ = "0.1.0"
