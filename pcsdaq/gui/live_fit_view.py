"""The live fit over the spectrum being measured: the engine's ``live_fit`` events (or, when
watching a headless run, the rows of its ``/entry/analysis/live`` table) drawn on a
:class:`~pcsdaq.gui.spectra_view.SpectraView`.

Each update sets a label line at once (Delta +- error, Z, Gamma, P or the second gap, the
verdict, the points fitted of those measured) and the curve's legend entry; the model curve
itself comes with the engine's event (its live-fit worker computes it beside the fit) or, for
a row of a watched file, is computed in the GUI's fit worker process
(:func:`pcsdaq.gui.fit_worker.live_fit_curve`, tens of ms for a thermal curve) and drawn
when it comes back; rows that arrive meanwhile are coalesced: only the newest is computed
next. When the finished spectrum's own fit arrives (the full fit of ``pcsdaq fit``) it
replaces the live curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from pcsdaq.gui.fit_worker import FitRunner, live_fit_curve, live_label

if TYPE_CHECKING:
    from pcsdaq.gui.spectra_view import SpectraView, SpectrumTrace

#: the live curve's pen: red, dash-dot (the finished spectrum's fit is black, dashed)
LIVE_PEN = pg.mkPen("#d62728", width=1.6, style=pg.QtCore.Qt.PenStyle.DashDotLine)


@dataclass
class LiveState:
    """One spectrum's live fit: the newest update, its curve (bias V, G/G_N) when computed,
    the plot item, and the update waiting while a curve is being computed."""

    fit: dict
    curve: tuple[np.ndarray, np.ndarray] | None = None
    item: pg.PlotDataItem | None = None
    busy: bool = False
    waiting: dict | None = None
    shown: int = 0  #: updates whose curve has been drawn


class LiveFitOverlay:
    """Draws live fits on ``view`` (its plot, views and waterfall offsets) and shows the
    newest one in ``label``."""

    def __init__(self, view: SpectraView) -> None:
        self.view = view
        self.label = QtWidgets.QLabel("")
        self.label.setStyleSheet("color: #d62728")
        self.label.hide()  # no room taken until the first live fit
        self.label.setToolTip("the engine's live fit of the spectrum being measured; the "
                              "curve is replaced by the spectrum's full fit when it ends")
        self.states: dict[str, LiveState] = {}
        self.runner = FitRunner(view)
        self.runner.done.connect(self._curve_done)
        self.updates = 0  #: live fit updates received
        self.errors: list[str] = []  #: curves that could not be computed, why

    def show(self, key: str, fit: dict) -> bool:
        """A live fit update for spectrum ``key``: label and legend now, the curve when the
        worker has computed it. False when the spectrum is not shown (cleared, unknown)."""
        tr = self.view.traces.get(key)
        if tr is None:
            return False
        self.updates += 1
        text = f"{key}: {live_label(fit)}"
        self.label.setText(text)
        self.label.show()
        st = self.states.get(key)
        if st is None:
            st = self.states[key] = LiveState(fit)
        st.fit = fit
        if st.item is not None:
            self._set_legend(st.item, live_label(fit))
        if tr.fit is not None:
            return True  # the spectrum's full fit is drawn already: the label only
        curve = fit.get("curve_bias_V"), fit.get("curve_g")
        if curve[0] is not None and curve[1] is not None:  # the engine's worker drew it
            st.curve = (np.asarray(curve[0], dtype=float), np.asarray(curve[1], dtype=float))
            st.shown += 1
            self.draw(tr, self.view._offsets().get(key, 0.0), live_label(fit))
        elif st.busy:
            st.waiting = fit
        else:
            self._submit(tr, st, fit)
        return True

    def _submit(self, tr: SpectrumTrace, st: LiveState, fit: dict) -> None:
        v = tr.g.views()[0]
        if not len(v):
            return
        lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            return
        st.busy = True
        self.runner.submit((tr.key, fit), live_fit_curve, dict(fit), lo, hi,
                           tr.temperature_K)

    def _curve_done(self, job: object, res: object, _thread: str) -> None:
        assert isinstance(job, tuple)
        key: str = job[0]
        fit: dict = job[1]
        st = self.states.get(key)
        tr = self.view.traces.get(key)
        if st is None or tr is None:
            return
        st.busy = False
        if isinstance(res, Exception):
            self.errors.append(f"{key}: {type(res).__name__}: {res}")
        elif isinstance(res, tuple):
            st.curve = res
            st.shown += 1
            if tr.fit is None:
                self.draw(tr, self.view._offsets().get(key, 0.0), live_label(fit))
        if st.waiting is not None:
            waiting, st.waiting = st.waiting, None
            if tr.fit is None:
                self._submit(tr, st, waiting)

    def draw(self, tr: SpectrumTrace, level_offset: float, name: str | None = None) -> None:
        """Draw (or redraw) spectrum ``tr``'s live curve in the view's current mode."""
        st = self.states.get(tr.key)
        if st is None or st.curve is None:
            return
        from pcsdaq.gui.spectra_view import _normal_state

        v, g_norm = st.curve
        mode = self.view.view.currentText()
        if mode == "G/G_N":
            y = g_norm + level_offset
        else:
            gn = _normal_state(*tr.g.views())
            gn = gn if math.isfinite(gn) and gn != 0 else 1.0
            if mode == "dV/dI":
                with np.errstate(divide="ignore", invalid="ignore"):
                    y = 1.0 / (g_norm * gn) + level_offset / gn
            else:
                y = (g_norm + level_offset) * gn
        if st.item is None:
            st.item = self.view.plot.plot(v, y, name=name or live_label(st.fit), pen=LIVE_PEN,
                                          connect="finite")
        else:
            st.item.setData(v, y, connect="finite")
            if name is not None:
                self._set_legend(st.item, name)

    def _set_legend(self, item: pg.PlotDataItem, text: str) -> None:
        label = self.view.plot.legend.getLabel(item)
        if label is not None:
            label.setText(text)

    def redraw_all(self, offsets: dict[str, float]) -> None:
        """Redraw every live curve (the view, offset or kept set changed)."""
        for key in self.states:
            tr = self.view.traces.get(key)
            if tr is not None and tr.fit is None:
                self.draw(tr, offsets.get(key, 0.0))

    def superseded(self, key: str) -> None:
        """Spectrum ``key`` has its full fit: its live curve goes (the label stays)."""
        st = self.states.get(key)
        if st is not None and st.item is not None:
            self.view.plot.removeItem(st.item)
            st.item = None

    def drop(self, key: str) -> None:
        """Spectrum ``key`` is removed from the plot."""
        self.superseded(key)
        self.states.pop(key, None)

    def item(self, key: str) -> pg.PlotDataItem | None:
        """The live curve of spectrum ``key`` (None before its first curve)."""
        st = self.states.get(key)
        return st.item if st is not None else None
