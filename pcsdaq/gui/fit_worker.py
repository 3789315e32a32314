"""Fits and Tc constructions for the GUI, always off the GUI thread.

:class:`FitRunner` hands each job to Qt's global thread pool (a :class:`QRunnable`) and
delivers the answer with a queued signal, so the GUI thread only ever draws. The spectrum fit
is the one of ``pcsdaq fit`` (:func:`pcsdaq.analysis.spectrum_fit.fit_segment`), the model
curve comes from :mod:`pcsdaq.physics.andreev`, the Tc construction from
:func:`pcsdaq.analysis.tc.tc_from_rt`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt6 import QtCore

from pcsdaq.storage.reader import Segment


def spectrum_segment(name: str, columns: dict[str, np.ndarray]) -> Segment:
    """A run segment (V_dc_V, dIdV_S, and temperature_K / field_T / dVdI_Ohm if given) for
    :func:`~pcsdaq.analysis.spectrum_fit.fit_segment`."""
    cols = {k: np.asarray(v, dtype=float) for k, v in columns.items()}
    return Segment(name=name, attrs={}, columns=cols, units={})


def fit_with_curve(segment: Segment, temperature_K: float | None = None,
                   **options: Any) -> dict:
    """fit_segment of ``segment`` plus the fitted model curve on the spectrum's biases.

    Adds ``curve_bias_V`` (V, sorted, on the measured bias: the offset added back),
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
    res.update(curve_bias_V=(v_mV + res["offset_mV"]) * 1e-3, curve_g_norm=curve,
               g_normal_S=float(np.nanmedian(ratio)) if ratio.size else math.nan)
    return res


def fit_label(res: dict) -> str:
    """One legend line: Delta, Z, Gamma (and P) and the verdict."""
    extra = f" P={res['P']:.2f}" if res.get("model") == "spin" else ""
    return (f"fit {res['temperature_K']:.2f} K: \u0394={res['delta_meV']:.3f} meV "
            f"Z={res['Z']:.2f} \u0393={res['gamma_meV']:.3f} meV{extra} [{res['verdict']}]")


class _Job(QtCore.QRunnable):
    def __init__(self, runner: FitRunner, key: object, fn: Callable[[], object]) -> None:
        super().__init__()
        self.runner, self.key, self.fn = runner, key, fn

    def run(self) -> None:
        thread = threading.current_thread().name
        try:
            result: object = self.fn()
        except Exception as exc:  # one bad spectrum must not end the pool thread
            result = exc
        self.runner.done.emit(self.key, result, thread)


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

    def submit(self, key: object, fn: Callable[[], object]) -> None:
        """Run ``fn()`` in the pool; ``done`` carries ``key`` and its result."""
        self.pending += 1
        pool = QtCore.QThreadPool.globalInstance()
        assert pool is not None  # Qt makes the global pool on first use
        pool.start(_Job(self, key, fn))
