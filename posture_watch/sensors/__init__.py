"""Context sensors: each turns one signal from the outside world (another process on the
camera, and next the screen lock, do-not-disturb, idle time) into a reading the monitor
acts on between samples. One module per signal; none decides anything."""
