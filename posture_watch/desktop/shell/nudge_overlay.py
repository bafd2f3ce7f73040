"""The posture nudge: a faint glow along the screen edges (or a light tint) on every
screen, fading in and out. Click-through and never focused: it only colours the screen.

Translucency needs a compositing desktop (every current Linux desktop, macOS and Windows
have one). The glow's window is masked to the edge band, so without a compositor it still
never covers what the user works on.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt, QVariantAnimation
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QRegion, QScreen
from PySide6.QtWidgets import QWidget

from posture_watch.desktop.shell.screens import distinct_screens

NUDGE_TITLE = "posture-watch: nudge"
_COLOUR = (240, 150, 40)  # a warm amber
_BAND_PX = 36
_FADE_MS = 1500


class NudgeWindow(QWidget):
    def __init__(self, screen: QScreen, style: str) -> None:
        flags = (Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                 | Qt.WindowType.Tool | Qt.WindowType.WindowTransparentForInput
                 | Qt.WindowType.WindowDoesNotAcceptFocus
                 | Qt.WindowType.X11BypassWindowManagerHint)
        super().__init__(None, flags)
        self.setWindowTitle(NUDGE_TITLE)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setGeometry(screen.geometry())
        self._style = style
        self.level = 0.0
        if style == "glow":
            whole = QRegion(QRect(0, 0, self.width(), self.height()))
            inner = QRegion(QRect(_BAND_PX, _BAND_PX, self.width() - 2 * _BAND_PX,
                                  self.height() - 2 * _BAND_PX))
            self.setMask(whole.subtracted(inner))

    def set_level(self, level: float) -> None:
        self.level = level
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.fillRect(self.rect(), Qt.GlobalColor.transparent)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        alpha = round(255 * self.level)
        if self._style == "tint":
            painter.fillRect(self.rect(), QColor(*_COLOUR, round(alpha * 0.5)))
        else:
            w, h, b = self.width(), self.height(), _BAND_PX
            for band, start, end in (
                    (QRectF(0, 0, w, b), (0, 0), (0, b)),
                    (QRectF(0, h - b, w, b), (0, h), (0, h - b)),
                    (QRectF(0, 0, b, h), (0, 0), (b, 0)),
                    (QRectF(w - b, 0, b, h), (w, 0), (w - b, 0))):
                gradient = QLinearGradient(*start, *end)
                gradient.setColorAt(0.0, QColor(*_COLOUR, alpha))
                gradient.setColorAt(1.0, QColor(*_COLOUR, 0))
                painter.fillRect(band, gradient)
        painter.end()


class Nudge:
    """The overlays on every screen, faded together toward on or off."""

    def __init__(self, style: str, strength: float) -> None:
        self._style = style
        self._strength = strength
        self.windows: list[NudgeWindow] = []
        self.target = 0.0
        self._level = 0.0
        self._fade = QVariantAnimation()
        self._fade.setDuration(_FADE_MS)
        self._fade.valueChanged.connect(self._apply)
        self._fade.finished.connect(self._settled)

    @property
    def showing(self) -> bool:
        return bool(self.windows)

    def set_on(self, on: bool) -> None:
        target = self._strength if on else 0.0
        if target == self.target:
            return
        self.target = target
        if on and not self.windows:
            self.windows = [NudgeWindow(s, self._style) for s in distinct_screens()]
            for window in self.windows:
                window.show()
        self._fade.stop()
        self._fade.setStartValue(self._level)
        self._fade.setEndValue(target)
        self._fade.start()

    def _apply(self, value: object) -> None:
        self._level = float(value)  # type: ignore[arg-type]
        for window in self.windows:
            window.set_level(self._level)

    def _settled(self) -> None:
        if self.target == 0.0:
            for window in self.windows:
                window.close()
            self.windows = []
