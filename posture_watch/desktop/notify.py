"""Desktop notifications for reminders: one small interface, one backend per platform.

Every backend's `notify` returns whether the notification was handed over and never
raises: a missing notification daemon must not stop the monitor. Texts are never passed
through a shell or parsed as code by a helper program.
"""

from __future__ import annotations

import base64
import contextlib
import html
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TextIO, runtime_checkable

if TYPE_CHECKING:
    from jeepney import Message
    from jeepney.io.threading import DBusConnection

log = logging.getLogger(__name__)

APP_NAME = "posture-watch"
CHOICES = ("auto", "dbus", "macos", "windows", "terminal", "none")
URGENCY_LEVELS = {"low": 0, "normal": 1, "critical": 2}


@runtime_checkable
class Notifier(Protocol):
    name: str

    def notify(self, title: str, message: str, *, urgency: str = "normal") -> bool:
        """Show one notification; True if it was delivered. Never raises."""
        ...


def _clean(text: str) -> str:
    """Text every backend can carry: D-Bus strings and argv/env entries allow no NUL, and
    lone surrogates (undecodable bytes) would fail to encode as UTF-8."""
    text = str(text).replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def _urgency_level(urgency: str) -> int:
    level = URGENCY_LEVELS.get(urgency)
    if level is None:
        log.warning("unknown notification urgency %r; using 'normal'", urgency)
        return URGENCY_LEVELS["normal"]
    return level


class NullNotifier:
    """Notifications switched off: every reminder counts as delivered."""

    name = "none"

    def notify(self, title: str, message: str, *, urgency: str = "normal") -> bool:
        return True


class TerminalNotifier:
    """Last resort that works everywhere: a line on stderr and the terminal bell."""

    name = "terminal"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def notify(self, title: str, message: str, *, urgency: str = "normal") -> bool:
        stream = self._stream if self._stream is not None else sys.stderr
        try:
            stream.write(f"{APP_NAME}: {_clean(title)} — {_clean(message)}\a\n")
            stream.flush()
        except Exception as exc:
            log.warning("could not write the notification to the terminal: %s", exc)
            return False
        return True


def _run_helper(argv: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> bool:
    """Runs a notification helper from an argv list (never a shell); True if it exited 0."""
    try:
        done = subprocess.run(
            list(argv), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            errors="replace", timeout=timeout, check=False,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("notification helper %s failed: %s", argv[0], exc)
        return False
    if done.returncode != 0:
        log.warning("notification helper %s exited %d: %s", argv[0], done.returncode,
                    (done.stderr or "").strip()[:500])
        return False
    return True


def applescript_string(text: str) -> str:
    """An AppleScript string literal for `text`: backslashes and quotes escaped, and line
    breaks and tabs written as escapes so the statement stays on one line."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


class MacNotifier:
    """Notification Center through `osascript`, which ships with every macOS."""

    name = "macos"

    def __init__(self, timeout: float = 5.0) -> None:
        self._timeout = timeout

    def argv(self, title: str, message: str) -> list[str]:
        script = (f"display notification {applescript_string(_clean(message))} "
                  f"with title {applescript_string(_clean(title))}")
        return ["osascript", "-e", script]

    def notify(self, title: str, message: str, *, urgency: str = "normal") -> bool:
        # Notification Center has no urgency levels; checked only to log a bad value.
        _urgency_level(urgency)
        return _run_helper(self.argv(title, message), self._timeout)


# Windows PowerShell 5.1 (powershell.exe, not pwsh) can load the WinRT toast classes, so no
# module such as BurntToast is needed. The texts come in as environment variables, and the
# script itself is fixed, sent as -EncodedCommand: nothing the caller passes is ever parsed.
_TOAST_SCRIPT = """\
$ErrorActionPreference = 'Stop'
$null = [Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime]
$null = [Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime]
$template = [Windows.UI.Notifications.ToastTemplateType]::ToastText02
$xml = [Windows.UI.Notifications.ToastNotificationManager]::GetTemplateContent($template)
$texts = $xml.GetElementsByTagName('text')
$null = $texts.Item(0).AppendChild($xml.CreateTextNode($env:POSTURE_WATCH_TITLE))
$null = $texts.Item(1).AppendChild($xml.CreateTextNode($env:POSTURE_WATCH_MESSAGE))
$toast = [Windows.UI.Notifications.ToastNotification]::new($xml)
$notifier = [Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($env:POSTURE_WATCH_APP_ID)
$notifier.Show($toast)
"""  # noqa: E501
# Toasts need a registered AppUserModelID; Windows PowerShell's own is always there.
_POWERSHELL_APP_ID = r"{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe"


class WindowsNotifier:
    """A toast through Windows PowerShell. Not testable on Linux beyond its argv and env."""

    name = "windows"

    def __init__(self, timeout: float = 10.0) -> None:
        self._timeout = timeout

    def command(self, title: str, message: str) -> tuple[list[str], dict[str, str]]:
        encoded = base64.b64encode(_TOAST_SCRIPT.encode("utf-16-le")).decode("ascii")
        argv = ["powershell.exe", "-NoProfile", "-NonInteractive", "-EncodedCommand", encoded]
        env = {**os.environ, "POSTURE_WATCH_TITLE": _clean(title),
               "POSTURE_WATCH_MESSAGE": _clean(message),
               "POSTURE_WATCH_APP_ID": _POWERSHELL_APP_ID}
        return argv, env

    def notify(self, title: str, message: str, *, urgency: str = "normal") -> bool:
        _urgency_level(urgency)
        argv, env = self.command(title, message)
        return _run_helper(argv, self._timeout, env)


class _BusError(Exception):
    """The session bus cannot be used (no address, or one jeepney cannot connect to)."""


class DBusNotifier:
    """org.freedesktop.Notifications on the session bus, through jeepney (pure Python).

    One connection is kept and reused. Each `notify` has one overall deadline (`timeout`)
    covering connect, authentication and the calls, so a hung bus costs at most that much.
    A kept connection that turns out broken (the bus restarted) is replaced once.
    `clock` is the monotonic clock the deadline is read on; tests pass one they move
    themselves, to show that every wait ends at the deadline without timing it.
    """

    name = "dbus"
    category = "x-posture-watch.reminder"  # the spec's form for vendor categories

    def __init__(self, address: str | None = None, timeout: float = 2.0,
                 expire_ms: int = -1, clock: Callable[[], float] = time.monotonic) -> None:
        self._address = address  # None: $DBUS_SESSION_BUS_ADDRESS at connect time
        self._timeout = timeout
        self._clock = clock
        self._expire_ms = expire_ms  # -1: the server's default
        self._conn: DBusConnection | None = None
        self._serial = 0
        self._markup: bool | None = None  # server renders body markup; asked per connection
        self._lock = threading.Lock()

    # -- connection ---------------------------------------------------------------------

    def _connect(self, deadline: float) -> DBusConnection:
        from jeepney.bus import get_bus
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import prep_socket
        from jeepney.io.threading import DBusConnection

        address = self._address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        if not address:
            raise _BusError("DBUS_SESSION_BUS_ADDRESS is not set")
        try:
            path = get_bus(address)
        except (RuntimeError, ValueError, StopIteration) as exc:
            raise _BusError(f"unusable bus address {address!r}: {exc}") from exc
        sock = prep_socket(path, timeout=self._remaining(deadline))
        # jeepney's blocking connection says Hello with no time limit; this one leaves the
        # Hello to us, so every wait on the bus is bounded.
        conn = DBusConnection(sock)
        sock.settimeout(self._timeout)  # bounds sendall on a bus that stopped reading
        try:
            self._call(conn, message_bus.Hello(), deadline)
        except BaseException:
            conn.close()
            raise
        return conn

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None
        self._markup = None

    def close(self) -> None:
        with self._lock:
            self._close()

    def available(self) -> bool:
        """Whether the session bus answers now (the connection is then kept for use)."""
        with self._lock:
            if self._conn is not None:
                return True
            try:
                self._conn = self._connect(self._clock() + self._timeout)
            except Exception as exc:
                log.debug("session bus not reachable: %s", exc)
                return False
            return True

    def _remaining(self, deadline: float) -> float:
        return max(deadline - self._clock(), 0.0)

    def _call(self, conn: DBusConnection, msg: Message, deadline: float) -> tuple:
        from jeepney import HeaderFields
        from jeepney.wrappers import unwrap_msg

        self._serial += 1
        serial = self._serial
        conn.send(msg, serial=serial)
        while True:  # skip signals and late replies to calls that timed out
            reply = conn.receive(timeout=self._remaining(deadline))
            if reply.header.fields.get(HeaderFields.reply_serial) == serial:
                return unwrap_msg(reply)

    # -- notifications ------------------------------------------------------------------

    def _deliver(self, conn: DBusConnection, title: str, body: str, level: int,
                 deadline: float) -> int:
        from jeepney import DBusAddress, new_method_call

        server = DBusAddress("/org/freedesktop/Notifications",
                             bus_name="org.freedesktop.Notifications",
                             interface="org.freedesktop.Notifications")
        if self._markup is None:
            (caps,) = self._call(conn, new_method_call(server, "GetCapabilities"), deadline)
            self._markup = "body-markup" in caps
        if self._markup:  # the spec's markup is XML-like: escape so text shows as written
            body = html.escape(body, quote=False)
        hints = {"urgency": ("y", level), "category": ("s", self.category)}
        msg = new_method_call(server, "Notify", "susssasa{sv}i",
                              (APP_NAME, 0, "", title, body, [], hints, self._expire_ms))
        (notification_id,) = self._call(conn, msg, deadline)
        return notification_id

    def notify(self, title: str, message: str, *, urgency: str = "normal") -> bool:
        try:
            from jeepney.wrappers import DBusErrorResponse
        except ImportError:
            log.warning("D-Bus notifications need the jeepney package")
            return False
        level = _urgency_level(urgency)
        title, message = _clean(title), _clean(message)
        with self._lock:
            deadline = self._clock() + self._timeout
            for attempt in range(2):
                reused = self._conn is not None
                try:
                    if self._conn is None:
                        self._conn = self._connect(deadline)
                    self._deliver(self._conn, title, message, level, deadline)
                    return True
                except DBusErrorResponse as exc:  # the bus works; the server said no
                    log.warning("D-Bus notification refused: %s", exc)
                    return False
                except TimeoutError:
                    log.warning("D-Bus notification timed out after %.1f s", self._timeout)
                    self._close()  # a hung bus: do not wait on it again in this call
                    return False
                except (OSError, _BusError) as exc:
                    self._close()
                    if reused and attempt == 0:
                        log.info("D-Bus connection lost (%s); reconnecting", exc)
                        continue
                    log.warning("D-Bus notification failed: %s", exc)
                    return False
                except Exception as exc:
                    self._close()
                    log.warning("D-Bus notification failed: %r", exc)
                    return False
        return False


class FallbackNotifier:
    """Uses `primary` unless its first notification fails; then `fallback` for good."""

    def __init__(self, primary: Notifier, fallback: Notifier) -> None:
        self._active = primary
        self._fallback = fallback
        self._first = True
        self.name = primary.name

    def notify(self, title: str, message: str, *, urgency: str = "normal") -> bool:
        if not self._first:
            return self._active.notify(title, message, urgency=urgency)
        self._first = False
        if self._active.notify(title, message, urgency=urgency):
            return True
        log.warning("%s notifications do not work here; using %s notifications instead",
                    self._active.name, self._fallback.name)
        self._active = self._fallback
        self.name = self._fallback.name
        return self._active.notify(title, message, urgency=urgency)


def _auto(stream: TextIO | None) -> Notifier:
    terminal = TerminalNotifier(stream)
    if sys.platform == "darwin":
        return FallbackNotifier(MacNotifier(), terminal)
    if sys.platform == "win32":
        return FallbackNotifier(WindowsNotifier(), terminal)
    try:
        import jeepney  # noqa: F401
    except ImportError:
        return terminal
    dbus = DBusNotifier()
    if dbus.available():
        return FallbackNotifier(dbus, terminal)
    return terminal


def make_notifier(choice: str = "auto", *, stream: TextIO | None = None) -> Notifier:
    """The notifier for a config choice (one of CHOICES); `stream` is the terminal's.

    An explicit choice is used as is, failing or not; only "auto" falls back to the
    terminal. Raises ValueError for an unknown choice.
    """
    key = choice.strip().lower()
    if key == "auto":
        return _auto(stream)
    if key == "dbus":
        return DBusNotifier()
    if key == "macos":
        return MacNotifier()
    if key == "windows":
        return WindowsNotifier()
    if key == "terminal":
        return TerminalNotifier(stream)
    if key == "none":
        return NullNotifier()
    raise ValueError(f"unknown notification backend {choice!r}; choose one of "
                     + ", ".join(CHOICES))
