"""What each command does, between the parsed arguments (posture_watch.cli) and the
subpackages below. Each command returns one of these exit codes."""

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
