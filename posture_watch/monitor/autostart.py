"""Start the monitor at login: an XDG autostart entry, a systemd user unit or a launchd agent.

install() only writes files; it never runs systemctl or launchctl, so it is safe to call
anywhere (and in tests). activation_hint() says what the user runs next, if anything.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from posture_watch.errors import UserError

KINDS = ("xdg", "systemd", "launchd")
DESKTOP_NAME = "posture-watch.desktop"
UNIT_NAME = "posture-watch.service"
LAUNCHD_LABEL = "org.posture-watch.agent"
DESCRIPTION = "posture-watch: webcam posture and break reminders"


def default_command() -> list[str]:
    """The absolute interpreter path, so a venv install starts from a login session too."""
    return [os.path.abspath(sys.executable), "-m", "posture_watch", "run"]


def install(kind: str = "auto", *, command: list[str] | None = None) -> list[Path]:
    """Write the autostart file for `kind` (overwriting an older one); return what was written."""
    resolved = resolve_kind(kind)
    argv = list(command) if command is not None else default_command()
    _check_command(argv)
    path = paths_for(resolved)[0]
    if resolved == "xdg":
        _write_text(path, desktop_entry(argv))
    elif resolved == "systemd":
        _write_text(path, systemd_unit(argv))
    else:
        _write_bytes(path, launchd_plist(argv))
    return [path]


def remove(kind: str = "auto") -> list[Path]:
    """Delete the autostart files; return the ones that existed.

    "auto" removes every kind, so an entry written under another kind (say xdg before the
    systemd user manager was available) does not linger.
    """
    kinds = KINDS if kind == "auto" else (_check_kind(kind),)
    removed: list[Path] = []
    for each in kinds:
        owned, *links = paths_for(each)
        for path in [owned, *(link for link in links if link.is_symlink())]:
            if _unlink(path):
                removed.append(path)
    return removed


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UserError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return True


def resolve_kind(kind: str) -> str:
    """auto: launchd on macOS, systemd on Linux when `systemctl --user` works, else xdg."""
    if kind != "auto":
        return _check_kind(kind)
    platform = _platform()
    if platform == "darwin":
        return "launchd"
    if platform == "win32":
        raise UserError("autostart is not supported on Windows yet; "
                        "add 'posture-watch run' to your Startup folder")
    if platform.startswith("linux") and systemd_user_available():
        return "systemd"
    return "xdg"


def activation_hint(kind: str) -> str | None:
    """The command that makes a freshly written file take effect now, if one is needed."""
    if kind == "systemd":
        return f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}"
    if kind == "launchd":
        return f"launchctl load -w {paths_for('launchd')[0]}"
    return None  # xdg entries are read at the next login


def paths_for(kind: str) -> list[Path]:
    """The files a kind owns; the first is the one install writes.

    systemd's also include the default.target.wants link that `systemctl --user enable`
    makes: removing only the unit would leave a dangling link behind.
    """
    if kind == "xdg":
        return [config_home() / "autostart" / DESKTOP_NAME]
    if kind == "systemd":
        units = config_home() / "systemd" / "user"
        return [units / UNIT_NAME, units / "default.target.wants" / UNIT_NAME]
    if kind == "launchd":
        return [Path.home() / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"]
    raise ValueError(kind)


def config_home() -> Path:
    """$XDG_CONFIG_HOME, or ~/.config; the spec says to ignore a relative value."""
    value = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".config"


def systemd_user_available() -> bool:
    """True when a systemd user manager answers (so an enabled unit would really start)."""
    if shutil.which("systemctl") is None:
        return False
    try:
        done = subprocess.run(["systemctl", "--user", "show-environment"], capture_output=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _platform() -> str:
    return sys.platform


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UserError(f"unknown autostart kind {kind!r}; use auto, {', '.join(KINDS)}")
    return kind


def _check_command(argv: list[str]) -> None:
    if not argv or not argv[0]:
        raise UserError("the autostart command is empty")
    if any("\0" in arg for arg in argv):
        raise UserError("the autostart command contains a NUL character")


# ---------------------------------------------------------------- XDG Desktop Entry

# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_DESKTOP_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
# Inside the double quotes these four must be backslash-escaped.
_DESKTOP_QUOTED_ESCAPES = frozenset('"`$\\')


def desktop_entry(argv: list[str]) -> str:
    """A Desktop Entry for ~/.config/autostart (hidden from menus, enabled in GNOME)."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        "Name=posture-watch",
        f"Comment={DESCRIPTION}",
        f"Exec={desktop_exec(argv)}",
        "Terminal=false",
        "NoDisplay=true",
        "X-GNOME-Autostart-enabled=true",
    ]
    return "\n".join(lines) + "\n"


def desktop_exec(argv: list[str]) -> str:
    """The Exec= value for argv, quoted per the Desktop Entry spec.

    Two layers: each argument is quoted for the Exec rules (and % doubled so it is no field
    code), then the whole value is escaped as a key-file string, which is why a literal
    backslash inside quotes ends up as four backslashes in the file.
    """
    exec_line = " ".join(_desktop_quote(arg) for arg in argv)
    return _keyfile_escape(exec_line)


def _desktop_quote(arg: str) -> str:
    arg = arg.replace("%", "%%")
    if arg and not any(ch in _DESKTOP_RESERVED for ch in arg):
        return arg
    body = "".join("\\" + ch if ch in _DESKTOP_QUOTED_ESCAPES else ch for ch in arg)
    return f'"{body}"'


def _keyfile_escape(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
            .replace("\r", "\\r"))


# ---------------------------------------------------------------- systemd user unit

_SYSTEMD_SAFE = re.compile(r"[A-Za-z0-9_./,=:+@-]+")
# systemd refuses these in the executable path, whatever the quoting.
_SYSTEMD_BAD_IN_PATH = re.compile(r"[\"'\\$\x00-\x1f\x7f]")
# C escapes systemd undoes inside quotes (EXTRACT_CUNESCAPE).
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def systemd_unit(argv: list[str]) -> str:
    """A user service: restarts after a crash, but not after a usage error (exit 2)."""
    lines = [
        "[Unit]",
        f"Description={DESCRIPTION}",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={systemd_exec(argv)}",
        "Restart=on-failure",
        "RestartSec=30",
        # exit 2 is a usage/config error (no camera, bad config): retrying will not fix it
        "RestartPreventExitStatus=2",
        "",
        "[Install]",
        "WantedBy=default.target",
    ]
    return "\n".join(lines) + "\n"


def systemd_exec(argv: list[str]) -> str:
    """The ExecStart= value for argv, quoted for systemd's command-line parser."""
    program = argv[0]
    if not os.path.isabs(program):
        raise UserError(f"a systemd unit needs an absolute program path, not {program!r}")
    if _SYSTEMD_BAD_IN_PATH.search(program):
        raise UserError(f"systemd cannot run a program whose path contains quotes, "
                        f"backslashes or '$' ({program}); use --kind xdg")
    return " ".join(_systemd_quote(arg) for arg in argv)


def _systemd_quote(arg: str) -> str:
    """Quote when needed; '%' (specifiers) and '$' (variables) are doubled either way."""
    if _SYSTEMD_SAFE.fullmatch(arg):
        return arg
    body = "".join(_systemd_char(ch) for ch in arg)
    return f'"{body}"'


def _systemd_char(ch: str) -> str:
    if ch in _C_ESCAPES:
        return _C_ESCAPES[ch]
    if ch == "%":
        return "%%"
    if ch == "$":
        return "$$"
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\x{ord(ch):02x}"
    return ch


# ---------------------------------------------------------------- launchd agent


def launchd_plist(argv: list[str]) -> bytes:
    """A LaunchAgent that starts once per GUI login (the camera prompt needs the Aqua session)."""
    agent = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,
        "KeepAlive": False,
        "LimitLoadToSessionType": "Aqua",
    }
    return plistlib.dumps(agent, fmt=plistlib.FMT_XML)


# ---------------------------------------------------------------- writing


def _write_text(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    """Write beside, then rename: a login never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from exc
