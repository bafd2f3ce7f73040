"""The guided calibration window: the live picture with the tracked landmarks, what to do,
a progress bar, and the result with what to fix. It only draws and takes clicks; the
capture runs elsewhere (monitor/guided_calibration.py) and talks to it through `Feed`."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from posture_watch.desktop.shell.preview_window import rgb_pixmap
from posture_watch.desktop.shell.style import SHEET

CALIBRATION_TITLE = "posture-watch: calibration"
_PREVIEW = (560, 420)
_STEPS = {"upright": "Step 1: sit upright", "slump": "Step 2: slump as when tired"}


class Feed(QObject):
    """Signals from the capture's thread to the window (queued across threads)."""

    frame = Signal(object, int, int)  # RGB bytes, width, height
    phase = Signal(str, str, float)  # phase, instruction, seconds to hold
    progress = Signal(float)  # 0-1 of the capture, or -1 while waiting to start
    done = Signal(bool, str)  # saved?, what happened (with what to fix)


class CalibrationWindow(QWidget):
    start_clicked = Signal()
    retry_clicked = Signal()
    nudge_chosen = Signal(bool)  # on closing, when the nudge box was changed
    closed = Signal()

    def __init__(self, profile: str, feed: Feed, nudge: bool = False) -> None:
        super().__init__()
        self.setObjectName("panel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setWindowTitle(CALIBRATION_TITLE)
        self.setStyleSheet(SHEET + """
            QProgressBar { background: #26343f; border: none; border-radius: 4px;
                           height: 10px; color: transparent; }
            QProgressBar::chunk { background: #7fd1b9; border-radius: 4px; }
            QLabel#preview { background: #0f161b; border-radius: 6px; color: #b5c2cc; }
            QLabel#fail { color: #ffb4a8; font-size: 16px; }""")
        self.profile = profile
        self.preview = QLabel("Opening the camera…")
        self.preview.setObjectName("preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(*_PREVIEW)
        self.step = QLabel("")
        self.step.setObjectName("stretch")
        self.instruction = QLabel("Loading the pose model…")
        self.instruction.setWordWrap(True)
        self.hint = QLabel("")
        self.hint.setObjectName("why")
        self.hint.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self._nudge_was = nudge
        self.nudge = QCheckBox("&Nudge me: a faint glow at the screen edges while I slump "
                               "(from the next start)")
        self.nudge.setChecked(nudge)
        self.nudge.setStyleSheet("QCheckBox { color: #f2f5f7; font-size: 15px; }")
        self.nudge.setVisible(False)
        self.start = QPushButton("&Start")
        self.start.setEnabled(False)
        self.start.clicked.connect(self._start)
        self.close_button = QPushButton("&Cancel")
        self.close_button.clicked.connect(self.close)
        side = QVBoxLayout()
        side.setSpacing(12)
        brand = QLabel(f"POSTURE-WATCH · CALIBRATING “{profile}”")
        brand.setObjectName("brand")
        side.addWidget(brand)
        side.addWidget(self.step)
        side.addWidget(self.instruction)
        side.addWidget(self.hint)
        side.addStretch(1)
        side.addWidget(self.bar)
        side.addWidget(self.result)
        side.addWidget(self.nudge)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        side.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(28, 28, 28, 28)
        layout.setSpacing(28)
        layout.addWidget(self.preview)
        layout.addLayout(side, 1)
        self.resize(1080, 480)
        feed.frame.connect(self.set_frame)
        feed.phase.connect(self.set_phase)
        feed.progress.connect(self.set_progress)
        feed.done.connect(self.finish)

    def set_frame(self, rgb: object, width: int, height: int) -> None:
        self.preview.setPixmap(rgb_pixmap(rgb, width, height).scaled(
            *_PREVIEW, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))

    def set_phase(self, phase: str, text: str, seconds: float) -> None:
        self.step.setText(_STEPS.get(phase, phase))
        self.instruction.setText(text)
        self.hint.setText(f"Check that your head and both shoulders show in the picture, "
                          f"then press Start and hold the pose for {seconds:g} seconds.")
        self.setWindowTitle(f"{CALIBRATION_TITLE}: {phase}")  # the step, seen from outside
        self.start.setText("&Start" if phase == "upright" else "Co&ntinue")
        self.start.setEnabled(True)
        self.start.setFocus()
        self.bar.setValue(0)
        self.result.setText("")

    def set_progress(self, fraction: float) -> None:
        if fraction >= 0 and not self.windowTitle().endswith("capturing"):
            self.setWindowTitle(f"{CALIBRATION_TITLE}: capturing")
        if fraction >= 0:
            self.bar.setValue(round(1000 * fraction))
            self.hint.setText("Hold still…")

    def finish(self, saved: bool, text: str) -> None:
        self.setWindowTitle(f"{CALIBRATION_TITLE}: {'saved' if saved else 'refused'}")
        self.result.setObjectName("note" if saved else "fail")
        self.result.style().unpolish(self.result)  # restyle for the new name
        self.result.style().polish(self.result)
        self.result.setText(text)
        self.hint.setText("")
        self.bar.setValue(1000 if saved else 0)
        self.close_button.setText("&Done" if saved else "&Close")
        self.nudge.setVisible(saved)
        if not saved:
            self.start.setText("&Try again")
            self.start.setEnabled(True)
            self.start.clicked.disconnect()
            self.start.clicked.connect(self._retry)

    def _start(self) -> None:
        self.start.setEnabled(False)
        self.start_clicked.emit()

    def _retry(self) -> None:
        self.start.clicked.disconnect()
        self.start.clicked.connect(self._start)
        self.start.setEnabled(False)
        self.retry_clicked.emit()

    def closeEvent(self, event: object) -> None:
        if self.nudge.isVisible() and self.nudge.isChecked() != self._nudge_was:
            self.nudge_chosen.emit(self.nudge.isChecked())
        self.closed.emit()
        super().closeEvent(event)  # type: ignore[arg-type]
