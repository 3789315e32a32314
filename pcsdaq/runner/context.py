"""The RunContext the engine hands a running procedure: storage, events, pause/abort."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from pcsdaq.storage import RunWriter

if TYPE_CHECKING:
    from pcsdaq.runner.engine import RunEngine


class EngineContext:
    """One step's view of the engine (see pcsdaq.procedures.base.RunContext)."""

    def __init__(self, engine: RunEngine, step: int, writer: RunWriter, resume_state: dict,
                 segment_names: set[str] | None = None) -> None:
        self.engine = engine
        self.step = step
        self.writer = writer
        self.station = engine.station
        self.clock = engine.station.clock
        self.data_dir = engine.data_dir  #: the run's data folder (summaries beside the files)
        self.resume_state = dict(resume_state)
        self.n_points = 0
        self._started = time.monotonic()
        self._last_progress = -math.inf
        self._segment_names = segment_names if segment_names is not None else set()

    def begin_segment(self, name: str, **attrs: Any) -> None:
        """New NXdata group in the run file; published as a "segment" event. A name used
        before in this run (a retried step) gets a suffix, so nothing is overwritten."""
        base, n = name, 1
        while name in self._segment_names:
            n += 1
            name = f"{base}_{n}"
        self._segment_names.add(name)
        self.writer.begin_segment(name, **attrs)
        self.engine.emit({"type": "segment", "step": self.step, "name": name, "attrs": attrs})

    def record(self, row: dict) -> None:
        """Append one point (durable on return) and publish it as a "point" event."""
        self.writer.append(row)
        self.n_points += 1
        self.engine.emit({"type": "point", "step": self.step, "row": row})

    def checkpoint(self) -> None:
        """Between points: wait while paused, raise AbortRequested when aborted."""
        self.engine.checkpoint()

    #: at most one progress event per this many wall-clock s (the end always gets one): a
    #: progress bar needs no more, and a fast sweep calls progress() at every point
    PROGRESS_INTERVAL_S = 0.1

    def progress(self, fraction: float) -> None:
        """Progress of this step 0..1; the engine adds the ETAs."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_progress < self.PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        elapsed = now - self._started
        eta = elapsed * (1.0 - fraction) / fraction if fraction > 0 else math.nan
        self.engine.step_progress(self.step, fraction, eta)

    def log(self, message: str, level: str = "info") -> None:
        """A line for the run log and the operator."""
        self.engine.log(f"step {self.step + 1}: {message}", level)

    def set_metadata(self, **attrs: Any) -> None:
        """Run-level attributes in the file."""
        self.writer.set_metadata(**attrs)

    def save_resume_state(self, **state: Any) -> None:
        """Persist progress of this step for ``--resume``."""
        self.resume_state.update(state)
        self.engine.save_step_state(self.step, "running", self.resume_state)
