"""Autostart files: where they go, what they say, and that commands survive their quoting."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from posture_watch.errors import UserError
from posture_watch.monitor import autostart

NASTY = ["/opt/my apps/py thon", "-m", "posture_watch", "run", "--config",
         "/home/me/it's \"mine\".toml", "a\\b", "100%", "$HOME", ";", "", "tab\there",
         "new\nline", "`cmd`", "~user", "a=b", "#x", "(p)"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return home


@pytest.fixture(autouse=True)
def no_systemctl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never ask the real systemd; the ones that need an answer set one."""
    def refuse() -> bool:
        raise AssertionError("a test tried to run systemctl")

    monkeypatch.setattr(autostart, "systemd_user_available", refuse)


# ---------------------------------------------------------------- reference parsers


def parse_desktop(text: str) -> dict[str, str]:
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    entries = [line.split("=", 1) for line in lines[1:] if line and not line.startswith("#")]
    assert all(len(pair) == 2 for pair in entries)
    keys = [key for key, _ in entries]
    assert len(keys) == len(set(keys)), "duplicate keys"
    return dict(entries)  # type: ignore[arg-type]


def desktop_exec_argv(value: str) -> list[str]:
    """Undo an Exec value per the Desktop Entry spec: string escapes, quoting, then %%."""
    unescaped, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            unescaped.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[value[i + 1]])
            i += 2
        else:
            unescaped.append(value[i])
            i += 1
    text = "".join(unescaped)
    argv: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        word = []
        if text[i] == '"':
            i += 1
            while text[i] != '"':
                if text[i] == "\\":
                    assert text[i + 1] in '"`$\\', f"bad escape in {text!r}"
                    i += 1
                word.append(text[i])
                i += 1
            i += 1
            assert i == len(text) or text[i] == " "
        else:
            while i < len(text) and text[i] != " ":
                assert text[i] not in " \t\n\"'\\><~|&;$*?#()`", f"unquoted {text[i]!r}"
                word.append(text[i])
                i += 1
        argv.append("".join(word).replace("%%", "%"))
    return argv


def systemd_exec_argv(value: str) -> list[str]:
    """Undo an ExecStart value: words, double quotes with C escapes, then %% and $$."""
    argv: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == " ":
            i += 1
            continue
        word = []
        if value[i] == '"':
            i += 1
            while value[i] != '"':
                if value[i] == "\\":
                    code = value[i + 1]
                    if code == "x":
                        word.append(chr(int(value[i + 2:i + 4], 16)))
                        i += 4
                        continue
                    word.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}[code])
                    i += 2
                    continue
                word.append(value[i])
                i += 1
            i += 1
        else:
            while i < len(value) and value[i] != " ":
                assert value[i] not in "\"'\\;%$", f"unquoted {value[i]!r}"
                word.append(value[i])
                i += 1
        argv.append("".join(word).replace("%%", "%").replace("$$", "$"))
    return argv


def unit_sections(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif line and not line.startswith("#"):
            key, value = line.split("=", 1)
            current[key] = value
    return sections


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


# ---------------------------------------------------------------- each kind


def test_xdg_writes_a_hidden_enabled_desktop_entry(home: Path, tmp_path: Path) -> None:
    written = autostart.install("xdg")
    assert written == [tmp_path / "xdg" / "autostart" / "posture-watch.desktop"]
    entry = parse_desktop(written[0].read_text(encoding="utf-8"))
    assert entry["Type"] == "Application"
    assert entry["Name"] == "posture-watch"
    assert entry["NoDisplay"] == "true"
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert desktop_exec_argv(entry["Exec"]) == [sys.executable, "-m", "posture_watch", "run"]


def test_systemd_writes_a_user_unit(home: Path, tmp_path: Path) -> None:
    written = autostart.install("systemd")
    assert written == [tmp_path / "xdg" / "systemd" / "user" / "posture-watch.service"]
    unit = unit_sections(written[0].read_text(encoding="utf-8"))
    assert set(unit) == {"Unit", "Service", "Install"}
    assert unit["Unit"]["Description"]
    assert systemd_exec_argv(unit["Service"]["ExecStart"]) == autostart.default_command()
    assert unit["Service"]["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "default.target"


def test_launchd_writes_an_agent_plist(home: Path) -> None:
    command = ["/usr/local/bin/python3", "-m", "posture_watch", "run", "--profile", "desk"]
    written = autostart.install("launchd", command=command)
    assert written == [home / "Library" / "LaunchAgents" / "org.posture-watch.agent.plist"]
    agent = plistlib.loads(written[0].read_bytes())
    assert agent["Label"] == "org.posture-watch.agent"
    assert agent["ProgramArguments"] == command
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] is False


def test_default_command_is_the_absolute_interpreter(home: Path) -> None:
    command = autostart.default_command()
    assert command == [sys.executable, "-m", "posture_watch", "run"]
    assert os.path.isabs(command[0])


def test_config_home_defaults_to_dot_config(home: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert autostart.install("xdg") == [home / ".config" / "autostart" / "posture-watch.desktop"]
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")  # the spec says: ignore it
    assert autostart.install("systemd")[0].is_relative_to(home / ".config")


def test_install_twice_replaces_the_entry(home: Path) -> None:
    autostart.install("xdg", command=["/bin/first"])
    [path] = autostart.install("xdg", command=["/bin/second"])
    assert desktop_exec_argv(parse_desktop(path.read_text())["Exec"]) == ["/bin/second"]
    assert [p.name for p in path.parent.iterdir()] == ["posture-watch.desktop"]  # no temp left


# ---------------------------------------------------------------- remove


@pytest.mark.parametrize("kind", ["xdg", "systemd", "launchd"])
def test_remove_deletes_exactly_what_install_wrote(kind: str, home: Path,
                                                   tmp_path: Path) -> None:
    bystander = tmp_path / "xdg" / "autostart" / "other-app.desktop"
    bystander.parent.mkdir(parents=True)
    bystander.write_text("[Desktop Entry]\n")
    before = files_under(tmp_path)
    written = autostart.install(kind)
    assert files_under(tmp_path) == before | set(written)
    assert autostart.remove(kind) == written
    assert files_under(tmp_path) == before
    assert autostart.remove(kind) == []


def test_remove_auto_finds_every_kind(home: Path) -> None:
    written = autostart.install("xdg") + autostart.install("launchd")
    assert sorted(autostart.remove("auto")) == sorted(written)


def test_remove_systemd_also_drops_the_enable_link(home: Path, tmp_path: Path) -> None:
    [unit] = autostart.install("systemd")
    wants = unit.parent / "default.target.wants"
    wants.mkdir()
    (wants / unit.name).symlink_to(unit)  # what `systemctl --user enable` makes
    assert autostart.remove("systemd") == [unit, wants / unit.name]
    assert not (wants / unit.name).is_symlink()


# ---------------------------------------------------------------- quoting


def test_exec_quotes_spaces_and_quotes(home: Path) -> None:
    command = ["/opt/my apps/python", "-m", "posture_watch", "run", "--config",
               "/home/me/it's \"mine\".toml"]
    [desktop] = autostart.install("xdg", command=command)
    exec_value = parse_desktop(desktop.read_text())["Exec"]
    assert exec_value == ('"/opt/my apps/python" -m posture_watch run --config '
                          '"/home/me/it\'s \\\\"mine\\\\".toml"')
    assert desktop_exec_argv(exec_value) == command

    [unit] = autostart.install("systemd", command=command)
    exec_start = unit_sections(unit.read_text())["Service"]["ExecStart"]
    assert exec_start == ('"/opt/my apps/python" -m posture_watch run --config '
                          '"/home/me/it\'s \\"mine\\".toml"')
    assert systemd_exec_argv(exec_start) == command


def test_every_reserved_character_round_trips(home: Path) -> None:
    [desktop] = autostart.install("xdg", command=NASTY)
    text = desktop.read_text(encoding="utf-8")
    assert len(text.splitlines()) == 9  # the newline argument did not break the file
    assert desktop_exec_argv(parse_desktop(text)["Exec"]) == NASTY
    [unit] = autostart.install("systemd", command=NASTY)
    exec_start = unit_sections(unit.read_text(encoding="utf-8"))["Service"]["ExecStart"]
    assert systemd_exec_argv(exec_start) == NASTY
    assert '"100%%"' in exec_start and '"$$HOME"' in exec_start and '";"' in exec_start


def test_systemd_refuses_programs_it_cannot_run(home: Path) -> None:
    with pytest.raises(UserError, match="absolute program path"):
        autostart.install("systemd", command=["python3", "-m", "posture_watch", "run"])
    with pytest.raises(UserError, match="use --kind xdg"):
        autostart.install("systemd", command=["/opt/it's/python3", "run"])
    with pytest.raises(UserError, match="empty"):
        autostart.install("xdg", command=[])


# GLib's own launcher, as `info.launch([], None)` runs it (same Exec parsing, same search
# of PATH), except that GLib leaves the child to us: the script waits for it to exit and
# exits with its status, so the test waits on the launched program itself, not a clock.
GLIB_LAUNCH = """
import os, sys
from gi.repository import Gio, GLib
info = Gio.DesktopAppInfo.new_from_filename(sys.argv[1])
pids = []
info.launch_uris_as_manager(
    [], None, GLib.SpawnFlags.SEARCH_PATH | GLib.SpawnFlags.DO_NOT_REAP_CHILD,
    None, None, lambda appinfo, pid, data: pids.append(pid), None)
[pid] = pids
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
PYGOBJECT_PACKAGE = "python3-gi"  # Debian's PyGObject for /usr/bin/python3 (with GLib's Gio)
GLIB_HANG_GUARD_S = 120  # starting two Pythons takes a second or two; this only catches a hang


def _system_python_with_gio() -> str:
    """/usr/bin/python3, which must have PyGObject; fails the test naming the package if not."""
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.fail(f"/usr/bin/python3 is missing: install the Debian packages python3 and "
                    f"{PYGOBJECT_PACKAGE}", pytrace=False)
    probe = subprocess.run([python, "-c", "from gi.repository import Gio"],
                           capture_output=True, text=True, check=False,
                           timeout=GLIB_HANG_GUARD_S)
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.fail(f"{python} has no PyGObject (Gio): install the Debian package "
                    f"{PYGOBJECT_PACKAGE} ({reason})", pytrace=False)
    return python


def test_glib_launches_the_entry_with_the_exact_argv(home: Path, tmp_path: Path) -> None:
    """An independent reader: GLib's own Desktop Entry launcher (needs Debian's python3-gi)."""
    python = _system_python_with_gio()
    out = tmp_path / "argv.json"
    dumper = tmp_path / "dump argv.py"
    dumper.write_text(f"import json, sys\n"
                      f"open({str(out)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    args = NASTY[1:]
    [desktop] = autostart.install("xdg", command=[python, str(dumper), *args])
    try:
        done = subprocess.run([python, "-c", GLIB_LAUNCH, str(desktop)], capture_output=True,
                              text=True, check=False, timeout=GLIB_HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"GLib's launch of the entry did not finish within {GLIB_HANG_GUARD_S} s",
                    pytrace=False)
    # The launcher waited for the launched program, which exited 0 after writing its argv.
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == args


# ---------------------------------------------------------------- auto


@pytest.mark.parametrize(("platform", "systemd", "expected"), [
    ("darwin", False, "launchd"),
    ("linux", True, "systemd"),
    ("linux", False, "xdg"),
    ("freebsd14", False, "xdg"),
])
def test_auto_picks_the_platform_kind(platform: str, systemd: bool, expected: str,
                                      home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autostart, "_platform", lambda: platform)
    monkeypatch.setattr(autostart, "systemd_user_available", lambda: systemd)
    assert autostart.resolve_kind("auto") == expected
    [written] = autostart.install()
    assert written == autostart.paths_for(expected)[0]


def test_auto_on_windows_and_unknown_kinds_are_user_errors(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autostart, "_platform", lambda: "win32")
    with pytest.raises(UserError, match="not supported on Windows"):
        autostart.install()
    with pytest.raises(UserError, match="unknown autostart kind 'cron'"):
        autostart.install("cron")
    with pytest.raises(UserError, match="unknown autostart kind"):
        autostart.remove("cron")


def test_activation_hints(home: Path) -> None:
    assert "enable --now posture-watch.service" in (autostart.activation_hint("systemd") or "")
    assert autostart.activation_hint("xdg") is None
