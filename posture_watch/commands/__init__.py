"""What each command does, between the parsed arguments (posture_watch.cli) and the
subpackages below."""
