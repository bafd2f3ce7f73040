"""Saves a screenshot of the whole X display (every monitor) to the path given; run as a
separate process, so the test looks at the screen from outside the monitor."""

import sys

from PySide6.QtGui import QGuiApplication

app = QGuiApplication(["grab_screen"])
screen = app.primaryScreen()
area = screen.virtualGeometry()
image = screen.grabWindow(0, area.x(), area.y(), area.width(), area.height())
if not image.save(sys.argv[1]):
    sys.exit(f"cannot save {sys.argv[1]}")
