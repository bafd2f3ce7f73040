"""Give frame-sized memory back to the system in a long `run` (glibc only).

glibc serves a large allocation with its own mapping, returned when freed, until a freed
one moves its dynamic threshold up (to as much as 32 MB); from then on a 2.7 MB frame can
come from the heap, and the heap keeps what it has held. Fixing the threshold at 128 kB
(which also turns the dynamic adjustment off) keeps each frame in a mapping of its own.
Side by side on the webcam-like file this lowered `run`'s RSS by 10-18 MB; it did not stop
its slow growth, which is not traced yet (README, Performance).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
FRAME_SIZED_BYTES = 128 * 1024


def keep_frames_out_of_the_heap() -> bool:
    """Set glibc's mmap and trim thresholds; False where there is no glibc mallopt."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # no libc found, or a libc without mallopt (musl)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = bool(mallopt(_M_MMAP_THRESHOLD, FRAME_SIZED_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, FRAME_SIZED_BYTES))
    if not done:
        log.debug("mallopt refused the frame-sized thresholds")
    return done
