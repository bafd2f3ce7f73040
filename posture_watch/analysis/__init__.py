"""Recorded inputs through the one pipeline loop: analysing a file, saving the analysis to
the history, and rendering it (human summary and JSON)."""
