"""`analyze --save`: record an analysed file in the history as a session of its own."""

from __future__ import annotations

from posture_watch.analysis.analyze import Analysis
from posture_watch.core.settings import Config
from posture_watch.history.recording import SessionRecorder
from posture_watch.history.store import Store


def save_analysis(analysis: Analysis, config: Config, profile: str | None) -> int:
    """Record an analysed file as a session, timed from the file's modification time (when
    the recording ended) back over its length; returns the session id."""
    duration = analysis.summary.duration_s
    started_at = analysis.path.stat().st_mtime - duration
    with Store() as store:
        store.apply_retention(config.history.retention_days)
        recorder = SessionRecorder(store, config, started_at=started_at,
                                   source=str(analysis.path), kind="file", profile=profile)
        for state in analysis.states:
            fired = [r for r in analysis.reminders if r.t_s == state.t_s]
            recorder.on_sample(state, fired)
        recorder.close()
        return recorder.session_id
