"""The reminder chime: a soft two-note sound made here (no sound file is shipped), played
by the platform's own player without waiting for it, and never in quiet hours."""

from __future__ import annotations

import io
import logging
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 22050
NOTES_HZ = (659.25, 880.0)  # E5 then A5: a rising fourth, gentle rather than an alarm
NOTE_S = 0.32
FULL_SCALE = 0.6  # the loudest sample at volume 1, as a fraction of 16-bit full scale
# Linux players tried in order (PipeWire, PulseAudio, ALSA), then macOS's own.
_PLAYERS = (("pw-play",), ("paplay",), ("aplay", "-q"), ("afplay",))


def chime_wav(volume: float) -> bytes:
    """The chime as a mono 16-bit WAV: each note a sine with a 10 ms rise and an
    exponential fade, so it neither clicks nor rings on."""
    samples = array("h")
    peak = 32767 * FULL_SCALE * max(0.0, min(1.0, volume))
    for frequency in NOTES_HZ:
        count = round(NOTE_S * RATE)
        for i in range(count):
            t = i / RATE
            envelope = min(1.0, t / 0.01) * math.exp(-5.0 * t / NOTE_S)
            samples.append(round(peak * envelope * math.sin(2 * math.pi * frequency * t)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


class Chime:
    """Plays the chime; `play` returns at once and never raises."""

    def __init__(self, volume: float, folder: Path | None = None) -> None:
        self._folder = Path(folder or tempfile.gettempdir())
        self._volume = volume
        self._path: Path | None = None
        self._running: list[subprocess.Popen] = []
        self.plays = 0  # chimes handed to a player

    def _file(self) -> Path:
        if self._path is None or not self._path.exists():
            self._folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(prefix="posture-watch-chime-", suffix=".wav",
                                             dir=self._folder, delete=False) as handle:
                handle.write(chime_wav(self._volume))
            self._path = Path(handle.name)
        return self._path

    def play(self) -> bool:
        self._running = [p for p in self._running if p.poll() is None]  # reap the finished
        try:
            path = self._file()
            if sys.platform == "win32":
                import winsound

                winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC)
                self.plays += 1
                return True
            for player in _PLAYERS:
                program = shutil.which(player[0])
                if program:
                    self._running.append(subprocess.Popen(
                        [program, *player[1:], str(path)], stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                    self.plays += 1
                    return True
        except (OSError, RuntimeError) as exc:
            log.warning("could not play the chime: %s", exc)
            return False
        log.warning("no sound player found (pw-play, paplay, aplay or afplay)")
        return False

    def close(self) -> None:
        for process in self._running:
            if process.poll() is None:
                process.terminate()
        if self._path is not None:
            self._path.unlink(missing_ok=True)
