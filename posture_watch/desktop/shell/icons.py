"""The tray icon for each monitor state, drawn at run time.

Each state has its own shape and mark as well as its colour, so it reads without colour
vision: good is a green disc with a tick, caution an amber triangle with "!", poor a red
octagon with a cross, away a hollow grey ring, paused a slate disc with two bars, camera
unavailable a grey square struck through, and starting or unknown a grey disc with "?".
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

STATES = ("good", "caution", "poor", "away", "paused", "camera", "unknown")
COLOURS = {
    "good": "#2e8b57", "caution": "#e0a100", "poor": "#c8322f", "away": "#8a8f98",
    "paused": "#4a6b8a", "camera": "#6b6f76", "unknown": "#8a8f98",
}
_SIZE = 64


def _shape(state: str) -> QPainterPath:
    path = QPainterPath()
    m = 4.0
    box = QRectF(m, m, _SIZE - 2 * m, _SIZE - 2 * m)
    if state == "caution":
        path.addPolygon(QPolygonF([QPointF(_SIZE / 2, m), QPointF(_SIZE - m, _SIZE - m - 2),
                                   QPointF(m, _SIZE - m - 2), QPointF(_SIZE / 2, m)]))
    elif state == "poor":
        c, r, k = _SIZE / 2, _SIZE / 2 - m, 0.4142
        points = [QPointF(c + x * r, c + y * r) for x, y in (
            (-k, -1), (k, -1), (1, -k), (1, k), (k, 1), (-k, 1), (-1, k), (-1, -k), (-k, -1))]
        path.addPolygon(QPolygonF(points))
    elif state == "camera":
        path.addRoundedRect(box, 8, 8)
    else:
        path.addEllipse(box)
    return path


def _mark(painter: QPainter, state: str) -> None:
    white = QColor("#ffffff")
    pen = QPen(white, 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    if state == "good":
        painter.drawPolyline([QPointF(18, 33), QPointF(28, 43), QPointF(46, 22)])
    elif state == "poor":
        painter.drawLine(QPointF(22, 22), QPointF(42, 42))
        painter.drawLine(QPointF(42, 22), QPointF(22, 42))
    elif state == "paused":
        painter.drawLine(QPointF(25, 20), QPointF(25, 44))
        painter.drawLine(QPointF(39, 20), QPointF(39, 44))
    elif state == "camera":
        painter.drawLine(QPointF(16, 48), QPointF(48, 16))
    elif state in ("caution", "unknown"):
        painter.setPen(QColor("#1d1d1d") if state == "caution" else white)
        font = QFont()
        font.setPixelSize(34)
        font.setBold(True)
        painter.setFont(font)
        area = QRectF(0, 14, _SIZE, _SIZE - 14) if state == "caution" else QRectF(0, 0, _SIZE,
                                                                                   _SIZE)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "!" if state == "caution" else "?")


def state_pixmap(state: str, size: int = _SIZE) -> QPixmap:
    state = state if state in STATES else "unknown"
    pixmap = QPixmap(_SIZE, _SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(COLOURS[state])
    if state == "away":  # hollow: nobody there
        painter.setPen(QPen(colour, 8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(QRectF(8, 8, _SIZE - 16, _SIZE - 16))
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPath(_shape(state))
        _mark(painter, state)
    painter.end()
    if size != _SIZE:
        return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return pixmap


def state_icon(state: str) -> QIcon:
    return QIcon(state_pixmap(state))
