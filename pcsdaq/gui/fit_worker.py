"""Fits and Tc constructions for the GUI, always off the GUI thread.

:class:`FitRunner` hands each job to Qt's global thread pool (a :class:`QRunnable`) and
delivers the answer with a queued signal, so the GUI thread only ever draws. The pool thread
computes nothing itself: it passes the job to one worker process and waits for the answer
(blocked without Python's GIL), so a minute-long fit of a 10^5-point spectrum never competes
with the GUI thread (or the run engine's) for the interpreter. The spectrum fit
is the one of ``pcsdaq fit`` (:func:`pcsdaq.analysis.spectrum_fit.fit_segment`), the model
curve comes from :mod:`pcsdaq.physics.andreev`, the Tc construction from
:func:`pcsdaq.analysis.tc.tc_from_rt`.
"""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt6 import QtCore

from pcsdaq.storage.reader import Segment

#: the fitted curve is handed to the plot on at most this many biases
CURVE_POINTS = 2000


def spectrum_segment(name: str, columns: dict[str, np.ndarray]) -> Segment:
    """A run segment (V_dc_V, dIdV_S, and temperature_K / field_T / dVdI_Ohm if given) for
    :func:`~pcsdaq.analysis.spectrum_fit.fit_segment`."""
    cols = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    return Segment(name=name, attrs={}, columns=cols, units={})


def fit_with_curve(segment: Segment, temperature_K: float | None = None,
                   **options: Any) -> dict:
    """fit_segment of ``segment`` plus the fitted model curve on the spectrum's biases.

    Adds ``curve_bias_V`` (V, sorted, at most CURVE_POINTS, on the measured bias: the offset
    added back),
    ``curve_g_norm`` (G/G_N of the model, NaN outside the fit window) and ``g_normal_S``
    (the normal-state conductance the fit normalised by, S; NaN when it came normalised).
    Raises AnalysisInputError."""
    from pcsdaq.analysis.model_fit import parameter_names
    from pcsdaq.analysis.readers import spectrum_from_segment
    from pcsdaq.analysis.spectrum_fit import fit_segment, preprocess
    from pcsdaq.physics import andreev

    res = fit_segment(segment, temperature_K=temperature_K, **options)
    spec = spectrum_from_segment(segment)
    v_mV, g_norm, _, _ = preprocess(spec.bias_V, spec.g, offset=res["offset_mV"],
                                    background=res["background"],
                                    normalized=res["normalized"], symmetrize=res["symmetrize"])
    model = res["model"]
    params = [res[n] for n in parameter_names(model)[:-1]]
    curve = res["scale"] * andreev.conductance(v_mV, model, params, res["temperature_K"],
                                               smearing_meV=res["smearing_meV"],
                                               convention=res["convention"])
    window = res.get("window_mV")
    if window:
        curve = np.where(np.abs(v_mV) <= window, curve, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.asarray(spec.g)[: len(g_norm)] / g_norm if not res["normalized"] \
            else np.array([math.nan])
    if len(v_mV) > CURVE_POINTS:  # the model is smooth: a few thousand points draw it
        keep = np.unique(np.linspace(0, len(v_mV) - 1, CURVE_POINTS).astype(int))
        v_mV, curve = v_mV[keep], curve[keep]
    res.update(curve_bias_V=(v_mV + res["offset_mV"]) * 1e-3, curve_g_norm=curve,
               g_normal_S=float(np.nanmedian(ratio)) if ratio.size else math.nan)
    return res


def fit_label(res: dict) -> str:
    """One legend line: Delta, Z, Gamma (and P) and the verdict."""
    extra = f" P={res['P']:.2f}" if res.get("model") == "spin" else ""
    return (f"fit {res['temperature_K']:.2f} K: \u0394={res['delta_meV']:.3f} meV "
            f"Z={res['Z']:.2f} \u0393={res['gamma_meV']:.3f} meV{extra} [{res['verdict']}]")


def _num(fit: dict, key: str, default: float = math.nan) -> float:
    try:
        return float(fit.get(key, default))
    except (TypeError, ValueError):
        return default


def live_fit_curve(fit: dict, bias_lo_V: float, bias_hi_V: float,
                   temperature_K: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pcsdaq.runner.live_fit.model_curve` (for the worker process: a thermal BTK
    curve takes tens of ms on a busy machine)."""
    from pcsdaq.runner.live_fit import model_curve

    return model_curve(fit, bias_lo_V, bias_hi_V, temperature_K)


def live_label(fit: dict) -> str:
    """One line for a live fit: Delta +- its error, Z, Gamma (P for the spin model, the
    second gap for two-gap), the verdict and the points fitted of those measured."""
    def num(key: str, fmt: str) -> str:
        value = _num(fit, key)
        return format(value, fmt) if math.isfinite(value) else "--"

    model = str(fit.get("model") or "btk")
    extra = f" P={num('P', '.2f')}" if model == "spin" else ""
    if model == "two-gap":
        extra = f" \u0394\u2082={num('delta2_meV', '.3f')} meV"
    n, m = _num(fit, "n_points"), _num(fit, "n_acquired")
    points = f", {int(n)} of {int(m)} points" if math.isfinite(n) and math.isfinite(m) else ""
    return (f"live fit: \u0394={num('delta_meV', '.3f')}\u00b1{num('delta_err_meV', '.3f')} "
            f"meV Z={num('Z', '.2f')} \u0393={num('gamma_meV', '.3f')} meV{extra} "
            f"[{fit.get('verdict', '')}{', ' + model if model != 'btk' else ''}{points}]")


_executor: concurrent.futures.ProcessPoolExecutor | None = None
_executor_lock = threading.Lock()


def _process_pool() -> concurrent.futures.ProcessPoolExecutor:
    """The one worker process for the GUI's fits (started on first use, "spawn": no fork of
    a process with Qt threads)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            from pcsdaq.runner.live_fit import WORKER_NICE, _worker_init

            # at the live fit's low CPU priority: on a busy machine the GUI thread (and the
            # engine's) come first, a fit that lands 100 ms later is not seen
            _executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init, initargs=(WORKER_NICE,))
        return _executor


def _nothing() -> None:
    return None


def warm_up() -> concurrent.futures.Future:
    """Start the worker process now (it imports numpy, scipy and pcsdaq: seconds on a busy
    machine), so the first fit of a run does not pay for it; returns its future."""
    return _process_pool().submit(_nothing)


def shutdown() -> None:
    """Stop the worker process, dropping queued fits and the one in flight (the GUI is
    closing), and wait for the pool's own thread: one left running races the interpreter's
    exit (``OSError: Bad file descriptor`` from concurrent.futures' exit hook)."""
    global _executor
    with _executor_lock:
        executor, _executor = _executor, None
    if executor is None:
        return
    # no public way to stop a busy worker before Python 3.14 (terminate_workers)
    workers = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    executor.shutdown(wait=True)


def _reset_pool() -> None:
    global _executor
    with _executor_lock:
        _executor = None


class _Job(QtCore.QRunnable):
    def __init__(self, runner: FitRunner, key: object, fn: Callable[..., object],
                 args: tuple, kwargs: dict, in_process: bool) -> None:
        super().__init__()
        self.runner, self.key, self.fn = runner, key, fn
        self.args, self.kwargs, self.in_process = args, kwargs, in_process

    def run(self) -> None:
        thread = threading.current_thread().name
        try:
            if self.in_process:
                try:
                    future = _process_pool().submit(self.fn, *self.args, **self.kwargs)
                    result: object = future.result()
                except concurrent.futures.process.BrokenProcessPool:
                    _reset_pool()  # the worker died (e.g. killed): a new one next time
                    raise
            else:
                result = self.fn(*self.args, **self.kwargs)
        except Exception as exc:  # one bad spectrum must not end the pool thread
            result = exc
        try:
            self.runner.done.emit(self.key, result, thread)
        except RuntimeError:  # the window closed meanwhile: nobody to tell
            pass


class FitRunner(QtCore.QObject):
    """Runs callables in the global QThreadPool; ``done(key, result_or_exception, thread
    name)`` arrives on the thread this object lives in (the GUI thread)."""

    done = QtCore.pyqtSignal(object, object, str)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.pending = 0
        self.threads: list[str] = []  #: names of the threads that ran the jobs
        self.done.connect(self._count)

    def _count(self, _key: object, _result: object, thread: str) -> None:
        self.pending -= 1
        self.threads.append(thread)

    def submit(self, key: object, fn: Callable[..., object], *args: object,
               in_process: bool = True, **kwargs: object) -> None:
        """Run ``fn(*args, **kwargs)`` off the GUI thread: in the worker process (``fn``
        and its arguments picklable: a module-level function), or with ``in_process=False``
        in the pool thread itself (e.g. reading files); ``done`` carries ``key`` and the
        result (or the exception)."""
        self.pending += 1
        pool = QtCore.QThreadPool.globalInstance()
        assert pool is not None  # Qt makes the global pool on first use
        pool.start(_Job(self, key, fn, args, kwargs, in_process))
