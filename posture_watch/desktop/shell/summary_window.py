"""Today's summary in a plain window, from the tray menu."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from posture_watch.desktop.shell.style import SHEET

SUMMARY_TITLE = "posture-watch: today"


class SummaryWindow(QWidget):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.setWindowTitle(SUMMARY_TITLE)
        self.setStyleSheet(SHEET + "QPlainTextEdit { background: #26343f; color: #f2f5f7; "
                           "border: none; padding: 12px; }")
        view = QPlainTextEdit(text)
        view.setReadOnly(True)
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(10)
        view.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(view)
        self.resize(760, 560)
