"""The screens to put a window on: one per distinct area of the desktop."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication, QScreen


def _contains(outer: QRect, inner: QRect) -> bool:
    return outer != inner and outer.contains(inner)


def distinct_screens() -> list[QScreen]:
    """Every screen, less those whose area holds another screen whole.

    X servers can list a monitor that spans the others (Xvfb keeps its automatic
    whole-screen monitor beside `xrandr --setmonitor` ones); a window on it would sit
    over the windows on the real monitors.
    """
    screens = QGuiApplication.screens()
    return [s for s in screens
            if not any(_contains(s.geometry(), o.geometry()) for o in screens if o is not s)]
