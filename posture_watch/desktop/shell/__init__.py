"""The desktop shell (Qt, PySide6): tray icon, break screens, posture nudge.

Imported only when a display is there and the desktop layer is on (monitor/run.py); it
observes the monitor and sends it the same control commands as the CLI.
"""
