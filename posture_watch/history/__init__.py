"""The local record of every session: the SQLite store, session recording, the queries
behind `summary`/`history`/`export`, the HTML report and calibration profiles."""
