"""The pure core: metrics, calibration, scoring, reminders, summaries.

No cv2, mediapipe, sqlite3, notifier or clock in here: plain data in, plain data out,
time passed in as an argument.
"""
