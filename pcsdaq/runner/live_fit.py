"""Live BTK fit: a spectrum refitted in a worker process while its points arrive.

The engine owns one :class:`LiveFitter` per run (started with the run's first spectrum,
shut down when the run ends, however it ends). The engine's thread hands it each recorded
point (:meth:`LiveFitter.add`) and asks for finished fits between points
(:meth:`LiveFitter.poll`); nothing here ever blocks a point:

* one worker process (``ProcessPoolExecutor(1)``, *spawn* context: the engine runs threads,
  and a forked copy of a threaded process can deadlock), so a fit never competes with the
  engine's thread for the GIL; it runs at a low CPU priority (nice 10) with one BLAS thread,
  so on a busy machine the sweep's thread comes first;
* at most one fit in flight; when it returns, the *newest* snapshot of the spectrum is sent
  (never a queue of stale ones), so the fit shown is one update behind the data; the
  worker fits at most :data:`DUTY` of the time (it rests 3x as long as its last fit took);
* a segment that ends with points not yet fitted gets one final fit (it has priority over
  the next segment's snapshots; finals of several spectra wait their turn, oldest first);
  the step's end waits for its last fits at most :data:`FINAL_WAIT_S` (after the last
  point: no point waits);
* a fit that raises is logged once per run and the sweep goes on; a worker that dies ends
  live fitting for the run (logged).

The fit is the analysis package's trusted one (:func:`pcsdaq.analysis.spectrum_fit.
fit_spectrum`: preprocessing, dips, verdict): single-gap BTK, and when its verdict is
"poor" the spin and two-gap models too, the one with the lowest chi2 whose verdict is not
"poor" shown (:func:`~pcsdaq.runner.live_fit_model.fit_snapshot`, which also draws the
fitted curve). Each update becomes a row of the run file's side table
``/entry/analysis/live`` (:data:`LIVE_COLUMNS`) and a ``live_fit`` event.

Off switches: the procedure parameter ``live_fit`` and, for tests and CI, the environment
variable ``PCSDAQ_LIVE_FIT=0`` (or the engine's ``live_fit=False``).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pcsdaq.runner.live_fit_model import (  # noqa: F401 - the live fit's public names
    CURVE_COLUMNS,
    LIVE_CURVE_POINTS,
    fit_snapshot,
    model_curve,
)
from pcsdaq.storage.tables import TEXT

log = logging.getLogger("pcsdaq.runner.live_fit")

#: the environment's global switch ("0", "off", "false", "no": no live fit anywhere)
ENV_SWITCH = "PCSDAQ_LIVE_FIT"
#: the run file's side table of the live fit
LIVE_TABLE = "live"
#: its columns (one row per update): the segment index, the points fitted and the points
#: acquired when it was shown, the run clock's time of showing, the parameters and errors;
#: the temperature fitted at, the scale and bias offset and (two-gap model) the second gap's
#: parameters, so a watching GUI can draw the fitted curve from the table alone
LIVE_COLUMNS: dict[str, str] = {
    "segment": "", "n_points": "", "n_acquired": "", "time_s": "s",
    "delta_meV": "meV", "delta_err_meV": "meV", "Z": "", "Z_err": "",
    "gamma_meV": "meV", "gamma_err_meV": "meV", "P": "", "chi2_red": "", "fit_s": "s",
    "verdict": TEXT, "model": TEXT, "temperature_K": "K", "scale": "", "offset_mV": "mV",
    "delta2_meV": "meV", "gamma2_meV": "meV", "weight": "",
}
#: points a spectrum needs before its first live fit
MIN_POINTS = 16
#: the largest share of wall time the worker may spend fitting: after a fit of f s the next
#: snapshot goes out f (1 / DUTY - 1) s later at the earliest. On a machine whose cores are
#: all busy, every CPU-second of a fit (even at nice 19) delays the sweep's wake-ups a little
#: (bench_sweep section 4); a spectrum needs no more than a few updates a second
DUTY = 0.25
#: how long the end of a step waits for the last spectrum's final fit, s
FINAL_WAIT_S = 20.0


def enabled_by_environment() -> bool:
    """False when ``PCSDAQ_LIVE_FIT`` says off (0, off, false, no)."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "off", "false", "no")


#: the worker's niceness: on a shared machine the sweep's thread (and the lock-in's I/O) come
#: first; not 19, which starves the fits outright when every core is busy
WORKER_NICE = 10
_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _exit_with_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    """In the worker: end it once its parent (the engine's process) is gone, e.g. after a
    kill -9 (the pool's queue gives a worker no end of file then: it would wait forever)."""
    while os.getppid() == parent_pid:
        time.sleep(interval_s)
    os._exit(0)


def _worker_init(nice: int) -> None:
    """In the worker before its first fit: niceness ``nice``, one BLAS thread (a fit's
    matrix products on every core would take them from the sweep), Ctrl+C ignored (it
    reaches the whole process group; the parent decides, and ends the worker)."""
    try:
        os.nice(max(nice - os.nice(0), 0))
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in _ONE_THREAD:
        os.environ[name] = "1"
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True,
                     name="live-fit-parent-watch").start()
    if "numpy" in sys.modules:  # loaded already (by the parent's main module): limit it
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        except ImportError:
            pass


def _worker_ready() -> int:
    """Warm-up call: loads the fit's modules in the worker; returns its pid."""
    import pcsdaq.analysis.spectrum_fit  # noqa: F401

    return os.getpid()


@dataclass
class _Snapshot:
    key: tuple[int, int]  # (step, segment index)
    name: str
    bias_V: np.ndarray
    g: np.ndarray
    temperature_K: float


@dataclass
class _Segment:
    step: int
    index: int
    name: str
    temperature_K: float
    bias: list[float] = field(default_factory=list)
    g: list[float] = field(default_factory=list)
    temps: list[float] = field(default_factory=list)
    fitted_n: int = 0  # points of the newest snapshot sent

    def snapshot(self) -> _Snapshot | None:
        """The segment's points now (finite ones), None below MIN_POINTS."""
        bias, g = np.asarray(self.bias), np.asarray(self.g)
        ok = np.isfinite(bias) & np.isfinite(g)
        if int(ok.sum()) < MIN_POINTS:
            return None
        temps = np.asarray(self.temps)
        temps = temps[np.isfinite(temps) & (temps > 0)]
        t = float(np.median(temps)) if temps.size else self.temperature_K
        self.fitted_n = len(self.bias)
        return _Snapshot((self.step, self.index), self.name, bias[ok], g[ok], t)


class LiveFitter:
    """The run's live fit (see the module doc): one worker process, newest snapshot only.

    ``options``: keyword arguments of ``fit_spectrum`` (e.g. ``{"model": "spin"}`` fixes the
    model); ``fit``: the function run in the worker (module level, picklable); ``report``:
    where the first fit failure of the run and a dead worker are told (the engine's log)."""

    def __init__(self, options: Mapping[str, Any] | None = None,
                 fit: Callable[..., dict[str, Any]] = fit_snapshot,
                 report: Callable[[str, str], None] | None = None) -> None:
        self.options = dict(options or {})
        self.fit = fit
        #: where the first fit failure and a dead worker are told: (message, level)
        self.report = report or (lambda message, level: log.log(
            logging.ERROR if level == "error" else logging.WARNING, message))
        self.worker_pid: int | None = None
        self.failed = False  #: the worker died: no more live fits this run
        self._executor: ProcessPoolExecutor | None = None
        self._ready: Future | None = None
        self._segment: _Segment | None = None
        #: finished spectra's last snapshots, oldest first (each is the only fit of its
        #: last points: not stale, so kept until sent)
        self._finals: dict[tuple[int, int], _Snapshot] = {}
        #: points of each finished spectrum ((step, segment index) -> count)
        self._final_counts: dict[tuple[int, int], int] = {}
        self._inflight: tuple[Future, _Snapshot, float] | None = None
        self._next_at = 0.0  # time.monotonic() before which no new snapshot goes out
        self.duty = DUTY
        self._errors_logged = False
        self.errors: list[str] = []  #: each fit failure's text (logged only the first)

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker process (idempotent; its imports run while the step sets up)."""
        if self._executor is None and not self.failed:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init, initargs=(WORKER_NICE,))
            self._ready = self._executor.submit(_worker_ready)  # starts the process now
            # lower it at once: its interpreter start and imports (seconds on a busy
            # machine) would otherwise run at the sweep's priority (the pool's process
            # table is not public API: without it, _worker_init lowers it a moment later)
            for pid in getattr(self._executor, "_processes", None) or {}:
                try:
                    os.setpriority(os.PRIO_PROCESS, pid,
                                   max(WORKER_NICE, os.getpriority(os.PRIO_PROCESS, 0)))
                except OSError:
                    pass

    def close(self) -> None:
        """Stop the worker process and its threads; a fit in flight is waited for (it takes
        well under a second), queued work is cancelled. Safe to call twice."""
        executor, self._executor = self._executor, None
        self._inflight, self._segment = None, None
        self._finals.clear()
        if executor is None:
            return
        executor.shutdown(wait=True, cancel_futures=True)
        ready = self._ready
        if ready is not None and ready.done() and not ready.cancelled() \
                and ready.exception() is None:
            self.worker_pid = ready.result()

    @property
    def running(self) -> bool:
        """True while the worker process is up."""
        return self._executor is not None

    # -- data in ------------------------------------------------------------------------
    def begin_segment(self, step: int, index: int, name: str, temperature_K: float) -> None:
        """A new spectrum: the previous one's last points get a final fit."""
        self._finish_segment()
        t = float(temperature_K) if temperature_K is not None else math.nan
        self._segment = _Segment(step, index, name, t)

    def end_step(self, final: bool = True) -> None:
        """The step's procedure has ended: with ``final``, its last spectrum's remaining
        points get a final fit; without (aborted, failed), nothing more is sent for it."""
        if final:
            self._finish_segment()
        else:
            self._finals.clear()
        self._segment = None

    def _finish_segment(self) -> None:
        seg = self._segment
        if seg is not None:
            self._final_counts[(seg.step, seg.index)] = len(seg.bias)
        if seg is not None and len(seg.bias) > seg.fitted_n:
            snap = seg.snapshot()
            if snap is not None:
                self._finals[snap.key] = snap

    def add(self, row: Mapping[str, float]) -> None:
        """One recorded point (uses V_dc_V, dIdV_S, temperature_K; others ignored)."""
        seg = self._segment
        if seg is None:
            return
        bias, g = row.get("V_dc_V"), row.get("dIdV_S")
        if bias is None or g is None:
            return
        seg.bias.append(float(bias))
        seg.g.append(float(g))
        seg.temps.append(float(row.get("temperature_K", math.nan)))

    @property
    def current_segment(self) -> int | None:
        """Index of the spectrum being acquired (None between steps)."""
        return self._segment.index if self._segment is not None else None

    @property
    def n_acquired(self) -> int:
        """Points of the current spectrum so far."""
        return len(self._segment.bias) if self._segment is not None else 0

    def acquired_in(self, step: int, segment: int) -> int | None:
        """Points spectrum ``segment`` of ``step`` has now: the current one's so far, a
        finished one's in all; None for a spectrum this live fit has not seen."""
        seg = self._segment
        if seg is not None and (seg.step, seg.index) == (step, segment):
            return len(seg.bias)
        return self._final_counts.get((step, segment))

    # -- results out --------------------------------------------------------------------
    def poll(self) -> list[dict[str, Any]]:
        """Finished fits (0 or 1) as dicts with segment, n_points, the fit's values and
        ``step``; then the next snapshot goes out if the worker is free. Never blocks."""
        out: list[dict[str, Any]] = []
        if self._executor is None:
            return out
        if self._inflight is not None and self._inflight[0].done():
            done = self._collect()
            if done is not None:
                out.append(done)
        if self._inflight is None:
            self._submit_next()
        return out

    def wait_final(self, timeout_s: float | None = None) -> list[dict[str, Any]]:
        """After the step's last point: wait (at most ``timeout_s``, default
        :data:`FINAL_WAIT_S`) for the fit in flight and the final fit of the last spectrum;
        returns their results."""
        timeout_s = FINAL_WAIT_S if timeout_s is None else timeout_s
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while self._executor is not None and (self._inflight or self._finals):
            if self._inflight is not None:
                try:
                    self._inflight[0].exception(timeout=max(deadline - time.monotonic(), 0))
                except TimeoutError:
                    self.report(f"live fit: the last fit took over {timeout_s:.0f} s; not "
                                "waited for", "warning")
                    self._inflight = None
                    self._finals.clear()
                    break
            out.extend(self.poll())
        return out

    def _submit_next(self) -> None:
        if not self._finals and time.monotonic() < self._next_at:
            return  # the worker rests (DUTY); a finished spectrum's final fit does not wait
        snap: _Snapshot | None = None
        if self._finals:
            snap = self._finals.pop(next(iter(self._finals)))
        elif self._segment is not None and len(self._segment.bias) > self._segment.fitted_n:
            snap = self._segment.snapshot()
        if snap is None or self._executor is None:
            return
        try:
            future = self._executor.submit(self.fit, snap.bias_V, snap.g, snap.temperature_K,
                                           self.options)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._broken(exc)
            return
        self._inflight = (future, snap, time.monotonic())

    def _collect(self) -> dict[str, Any] | None:
        assert self._inflight is not None
        future, snap, _sent = self._inflight
        self._inflight = None
        exc = future.exception()
        if isinstance(exc, BrokenProcessPool):
            self._broken(exc)
            return None
        if exc is not None:
            text = f"{type(exc).__name__}: {exc}"
            self.errors.append(text)
            if not self._errors_logged:
                self._errors_logged = True
                self.report(f"live fit of {snap.name} failed (the sweep goes on; further "
                            f"failures of this run are not logged): {text}", "warning")
            return None
        result = dict(future.result())
        fit_s = float(result.get("fit_s", 0.0))
        self._next_at = time.monotonic() + fit_s * (1.0 / self.duty - 1.0)
        result.update(step=snap.key[0], segment=snap.key[1], segment_name=snap.name,
                      n_points=len(snap.bias_V), temperature_K=snap.temperature_K)
        return result

    def _broken(self, exc: BaseException) -> None:
        self.report(f"live fit: the worker process died ({exc}); no live fits for the rest "
                    "of this run", "error")
        self.failed = True
        self.close()

    @property
    def first_error(self) -> str | None:
        """The first fit failure of the run (logged), None if none."""
        return self.errors[0] if self.errors else None
