"""`run --preview` inside the desktop shell: the annotated camera picture in a window."""

from __future__ import annotations

from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel

PREVIEW_TITLE = "posture-watch"  # the same title as OpenCV's preview window


def rgb_pixmap(rgb: object, width: int, height: int) -> QPixmap:
    """A pixmap of a packed RGB frame (bytes from the capture's thread); Qt copies it."""
    return QPixmap.fromImage(QImage(rgb, width, height, 3 * width,
                                    QImage.Format.Format_RGB888))


class PreviewWindow(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(PREVIEW_TITLE)

    def set_frame(self, rgb: object, width: int, height: int) -> None:
        self.setPixmap(rgb_pixmap(rgb, width, height))
        if self.width() < width:
            self.resize(width, height)
