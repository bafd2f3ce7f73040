"""What each command does, between the parsed arguments (posture_watch.cli) and the
subpackages below. Each command returns one of these exit codes."""

from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def live_config_path(given: Path | None) -> Path | None:
    """--config when given, else the user's own settings file when there is one.

    Used by the commands at the desk; `analyze` and `evaluate` read only --config, so a
    replay of a recording does not change with the user's settings.
    """
    from posture_watch.paths import user_config_file

    if given is not None:
        return given
    own = user_config_file()
    return own if own.is_file() else None
