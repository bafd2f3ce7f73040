"""The break screen: a window on every screen with a stretch from the guide, why it helps,
a countdown, and postpone and skip; and the short "welcome back" note after a break.

The windows only draw what core.break_flow decides; their buttons go back through it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from posture_watch.core.break_flow import BreakFlow, countdown_text
from posture_watch.core.messages import STOP_IF_IT_HURTS, format_duration
from posture_watch.desktop.shell.screens import distinct_screens
from posture_watch.desktop.shell.style import SHEET

BREAK_TITLE = "posture-watch: break"
WELCOME_TITLE = "posture-watch: welcome back"
WELCOME_S = 8.0
_WINDOW_SIZE = (720, 560)


def _label(text: str, name: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class BreakWindow(QWidget):
    def __init__(self, flow: BreakFlow, screen: QScreen, fullscreen: bool,
                 on_postpone: Callable[[], None], on_skip: Callable[[], None],
                 note: str = "") -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("panel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(BREAK_TITLE)
        self.setStyleSheet(SHEET)
        stretch = flow.stretch
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 36, 48, 36)
        column = QVBoxLayout()
        column.setSpacing(12)
        column.addWidget(_label("POSTURE-WATCH", "brand"))
        column.addWidget(_label("Time for a movement break", "title"))
        column.addWidget(_label("Stand up, walk about and look into the distance. Or, "
                                "right where you are, try this:", "lead"))
        column.addSpacing(8)
        column.addWidget(_label(stretch.name, "stretch"))
        steps = stretch.steps
        for number, step in enumerate(steps, 1):
            column.addWidget(_label(f"{number}.  {step}" if len(steps) > 1 else step))
        dose = stretch.dose[0].upper() + stretch.dose[1:]
        column.addWidget(_label(f"{dose}. {STOP_IF_IT_HURTS}"))
        column.addWidget(_label(stretch.why, "why"))
        if note:
            column.addWidget(_label(note, "note"))
        if fullscreen:
            column.addSpacing(48)  # the whole block is centred on the screen instead
        else:
            column.addStretch(1)
        self.countdown = _label("", "countdown", wrap=False)
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.countdown)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.postpone = QPushButton(f"&Postpone {format_duration(flow.postpone_s)}")
        self.postpone.setEnabled(flow.can_postpone)
        self.postpone.clicked.connect(on_postpone)
        buttons.addWidget(self.postpone)
        if not flow.strict:
            self.skip = QPushButton("&Skip this break")
            self.skip.clicked.connect(on_skip)
            buttons.addWidget(self.skip)
        buttons.addStretch(1)
        column.addLayout(buttons)
        if fullscreen:
            outer.addStretch(1)
            outer.addLayout(column)
            outer.addStretch(1)
        else:
            outer.addLayout(column)
        area = screen.availableGeometry()
        if fullscreen:
            self.setGeometry(screen.geometry())
            self.setContentsMargins(max(0, (area.width() - 820) // 2), 0,
                                    max(0, (area.width() - 820) // 2), 0)
        else:
            width, height = (min(_WINDOW_SIZE[0], area.width()),
                             min(_WINDOW_SIZE[1], area.height()))
            self.setGeometry(area.x() + (area.width() - width) // 2,
                             area.y() + (area.height() - height) // 2, width, height)
        self._fullscreen = fullscreen

    def present(self) -> None:
        if self._fullscreen:
            self.showFullScreen()
        else:
            self.show()
        self.raise_()

    def set_remaining(self, seconds: float) -> None:
        text = countdown_text(seconds)
        self.countdown.setText(text)
        self.setWindowTitle(f"{BREAK_TITLE} {text}")  # seen from outside, by the tests


class WelcomeNote(QWidget):
    """A small note on the main screen that closes itself."""

    def __init__(self, text: str) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint
                         | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setObjectName("panel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setWindowTitle(WELCOME_TITLE)
        self.setStyleSheet(SHEET)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.addWidget(_label("Welcome back", "stretch"))
        layout.addWidget(_label(text))
        screen = QGuiApplication.primaryScreen().availableGeometry()
        self.setGeometry(screen.x() + screen.width() - 440, screen.y() + 40, 400, 130)
        QTimer.singleShot(round(WELCOME_S * 1000), self.close)


class BreakScreens:
    """The break windows, one per screen, counting down together."""

    def __init__(self, flow: BreakFlow, fullscreen: bool, clock: Callable[[], float],
                 on_postpone: Callable[[], None], on_skip: Callable[[], None]) -> None:
        self.flow = flow
        self._fullscreen = fullscreen
        self._clock = clock
        self._on_postpone = on_postpone
        self._on_skip = on_skip
        self.windows: list[BreakWindow] = []
        self._welcome: WelcomeNote | None = None

    @property
    def open(self) -> bool:
        return bool(self.windows)

    def show(self, note: str = "") -> None:
        self.close()
        for screen in distinct_screens():
            window = BreakWindow(self.flow, screen, self._fullscreen, self._on_postpone,
                                 self._on_skip, note)
            self.windows.append(window)
        self.refresh()
        for window in self.windows:
            window.present()

    def refresh(self) -> None:
        remaining = self.flow.remaining(self._clock())
        for window in self.windows:
            window.set_remaining(remaining)

    def close(self) -> None:
        for window in self.windows:
            window.close()
        self.windows = []

    def welcome(self, text: str) -> None:
        self.close()
        self._welcome = WelcomeNote(text)
        self._welcome.show()
