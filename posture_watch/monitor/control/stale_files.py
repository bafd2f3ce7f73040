"""Before a server binds: remove the socket or port file a crashed server left behind.

A file whose server still answers is left alone, and starting is refused: two monitors
must not share one control channel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
from pathlib import Path

from posture_watch.errors import UserError
from posture_watch.monitor.control.client import ping_over_tcp
from posture_watch.monitor.control.port_file import read_port_file
from posture_watch.monitor.control.protocol import NotRespondingError
from posture_watch.monitor.instance_lock import already_running_message, read_lock_pid

log = logging.getLogger(__name__)


def clear_stale_socket(path: Path) -> None:
    """Remove a socket file nobody listens on; refuse if a live server answers on it."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise UserError(f"{path} exists and is not a socket; remove it and try again")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        log.info("removing the stale control socket %s", path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    except OSError:
        pass  # e.g. a timeout: something is there and busy; treat it as alive
    finally:
        probe.close()
    raise UserError(already_running_message(read_lock_pid(path.parent)))


def clear_stale_port_file(path: Path) -> None:
    """Remove a port file whose server is gone; refuse if a live server answers on it."""
    endpoint = read_port_file(path)
    if endpoint is None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    port, token = endpoint
    try:
        reply = ping_over_tcp(port, token, timeout_s=1.0)
    except NotRespondingError as exc:  # ours but busy: alive
        raise UserError(already_running_message(read_lock_pid(path.parent))) from exc
    except UserError:
        reply = None  # nothing listens, or something that is not us: stale
    if reply is not None and reply.get("ok") is True:
        pid = reply.get("pid")
        raise UserError(already_running_message(pid if isinstance(pid, int) else None))
    log.info("removing the stale control port file %s", path)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
