"""The monitor at the desk: the live loop over the camera, the `run` session, its control
channel and instance lock, calibration from the camera, the preview window and autostart."""
