"""The running monitor's local control channel: served by `run`, used by status/pause/stop."""
