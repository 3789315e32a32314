"""The RunContext the engine hands a running procedure: storage, events, pause/abort."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from pcsdaq.runner.live_fit import CURVE_COLUMNS, LIVE_TABLE, LiveFitter
from pcsdaq.storage import RunWriter

if TYPE_CHECKING:
    from pcsdaq.runner.engine import RunEngine


class EngineContext:
    """One step's view of the engine (see pcsdaq.procedures.base.RunContext)."""

    def __init__(self, engine: RunEngine, step: int, writer: RunWriter, resume_state: dict,
                 segment_names: set[str] | None = None, live: LiveFitter | None = None
                 ) -> None:
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
        #: the run's live fit when this step fits its spectra live (see live_fit.py)
        self.live = live
        self._clock_start = self.clock.now()

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
        if self.live is not None:
            self.live.begin_segment(self.step, len(self._segment_names) - 1, name,
                                    attrs.get("temperature_K", math.nan))

    def record(self, row: dict) -> None:
        """Append one point (durable on return) and publish it as a "point" event."""
        self.writer.append(row)
        self.n_points += 1
        self.engine.emit({"type": "point", "step": self.step, "row": row})
        if self.live is not None:  # a list append; a fit goes out only when the worker is free
            self.live.add(row)
            self.show_live_fits(self.live.poll())

    def show_live_fits(self, results: list[dict]) -> None:
        """Store finished live fits of this step (a row each of /entry/analysis/live) and
        publish them as "live_fit" events (n_acquired: the spectrum's points by then)."""
        for res in results:
            if res["step"] != self.step or self.writer.closed:
                continue  # a late fit of an earlier step's spectrum
            # the spectrum's points by now: all of a finished one (the fit in flight when
            # it ended has fewer than the spectrum holds)
            live = self.live
            known = live.acquired_in(res["step"], res["segment"]) if live is not None else None
            n_acquired = res["n_points"] if known is None else known
            row = {k: res[k] for k in ("segment", "n_points", "delta_meV", "delta_err_meV",
                                       "Z", "Z_err", "gamma_meV", "gamma_err_meV", "P",
                                       "chi2_red", "fit_s", "verdict", "model",
                                       "temperature_K", *CURVE_COLUMNS) if k in res}
            row.update(n_acquired=n_acquired, time_s=self.clock.now() - self._clock_start)
            self.writer.append_table(LIVE_TABLE, row)
            curve = {k: res[k] for k in ("curve_bias_V", "curve_g") if k in res}
            self.engine.emit({"type": "live_fit", "step": self.step,
                              "segment_name": res["segment_name"], **row, **curve})

    def finish_live(self, complete: bool) -> None:
        """End of the step's procedure: when it completed, wait (bounded) for its last
        spectrum's final fit; else keep only what is done. Never raises."""
        live = self.live
        if live is None:
            return
        try:
            live.end_step(final=complete)
            self.show_live_fits(live.wait_final() if complete else live.poll())
        except Exception as exc:  # a lost live fit must not change the step's outcome
            self.log(f"live fit: results not stored ({type(exc).__name__}: {exc})", "warning")

    def checkpoint(self) -> None:
        """Between points: wait while paused, raise AbortRequested when aborted; a live fit
        finished meanwhile (e.g. a spectrum's final fit during a stabilisation wait) is
        shown."""
        if self.live is not None:
            self.show_live_fits(self.live.poll())
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
