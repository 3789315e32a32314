"""The spectra plot a PCAR user reads: raw dI/dV, normalised G/G_N or dV/dI against bias,
one curve per spectrum coloured by its temperature (one colour map) or field (another), each
with its colour bar; a waterfall offset; keep the last N spectra or clear; the fitted curve
over each finished spectrum with Delta, Z, Gamma and the verdict in the legend; while a
spectrum is measured, the engine's live fit of it (:mod:`pcsdaq.gui.live_fit_view`).

Fits run in the thread pool (:mod:`pcsdaq.gui.fit_worker`); this widget only draws.
Normalisation is :func:`pcsdaq.analysis.spectra.normalise` (mean G of the outermost 15 % of
|V|), the one the fit uses with its default options, so the fitted curve lies on the data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from pcsdaq.gui.fit_worker import (
    FitRunner,
    fit_label,
    fit_with_curve,
    spectrum_segment,
    warm_up,
)
from pcsdaq.gui.live_fit_view import LiveFitOverlay
from pcsdaq.gui.live_plots import DOWNSAMPLE_FACTOR, GrowingXY, LivePlot

VIEWS = {"dI/dV": ("dI/dV", "S"), "G/G_N": ("G/G_N", ""), "dV/dI": ("dV/dI", "Ohm")}
#: colour maps: temperature and field never share one
T_MAP, B_MAP = "plasma", "viridis"
#: a spectrum needs this many points before it is fitted
MIN_FIT_POINTS = 16


@dataclass
class SpectrumTrace:
    """One spectrum: raw points (V, S; dV/dI in Ohm when measured), its attributes, its
    curve and, once fitted, the fit result and the fit's curve."""

    key: str
    attrs: dict
    g: GrowingXY = field(default_factory=GrowingXY)
    r: GrowingXY = field(default_factory=GrowingXY)
    t_sum: float = 0.0
    t_n: int = 0
    curve: pg.PlotDataItem | None = None
    fit: dict | None = None
    fit_curve: pg.PlotDataItem | None = None
    finished: bool = False

    @property
    def by_field(self) -> bool:
        """Coloured by field (a field series point) rather than by temperature."""
        b = self.attrs.get("field_T")
        if re.match(r"^B\d+_", self.attrs.get("_name", "")):
            return True
        return b is not None and b == b and abs(float(b)) > 0 and \
            self.attrs.get("setpoint_K") is None

    @property
    def temperature_K(self) -> float | None:
        """Mean measured temperature (as ``pcsdaq fit`` takes it), else the stated one (K)."""
        if self.t_n:
            return self.t_sum / self.t_n
        t = self.attrs.get("temperature_K")
        return float(t) if t is not None and t == t else None


def _normal_state(v: np.ndarray, g: np.ndarray) -> float:
    """G_N (S) as pcsdaq.analysis.spectra.normalise takes it; NaN when it is not a finite,
    non-zero conductance."""
    from pcsdaq.analysis.spectra import normal_conductance

    if len(v) < 2:
        return float(g[0]) if len(g) else math.nan
    gn = normal_conductance(v, g)
    return gn if math.isfinite(gn) and gn != 0 else math.nan


class SpectraView(QtWidgets.QWidget):
    """Spectra plot with its controls (view, waterfall step, keep last N, clear, fit)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, live_fit: bool = True) -> None:
        super().__init__(parent)
        self.live_fit = live_fit  #: fit each spectrum when it finishes
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        bar = QtWidgets.QHBoxLayout()
        self.view = QtWidgets.QComboBox()
        self.view.addItems(list(VIEWS))
        self.view.setToolTip("raw dI/dV (S), G/G_N (normalised by the mean G of the outermost "
                             "15 % of |V|, as the fit), or dV/dI (Ohm)")
        self.view.currentTextChanged.connect(self._view_changed)
        self.offset = QtWidgets.QDoubleSpinBox()
        self.offset.setRange(0.0, 5.0)
        self.offset.setSingleStep(0.1)
        self.offset.setToolTip("waterfall: each spectrum shifted up by this fraction of the "
                               "normal-state level")
        self.offset.valueChanged.connect(self.redraw_all)
        self.keep = QtWidgets.QSpinBox()
        self.keep.setRange(0, 1000)
        self.keep.setSpecialValueText("all")
        self.keep.setToolTip("keep only the last N spectra (0: all)")
        self.keep.valueChanged.connect(self._trim)
        self.clear_button = QtWidgets.QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        for label, w in (("View", self.view), ("Waterfall step", self.offset),
                         ("Keep last", self.keep)):
            bar.addWidget(QtWidgets.QLabel(label))
            bar.addWidget(w)
        bar.addWidget(self.clear_button)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.plot = LivePlot("Bias", "V", "dI/dV", "S")
        self.live = LiveFitOverlay(self)  #: the live fit of the spectrum being measured
        lay.addWidget(self.live.label)
        lay.addWidget(self.plot, 1)
        self.plot.getPlotItem().getViewBox().sigStateChanged.connect(self._zoom_changed)
        self._zoomed = False
        self.traces: dict[str, SpectrumTrace] = {}
        self._dirty: set[str] = set()
        self.t_bar = self._colour_bar(T_MAP, "T (K)", 5)
        self.b_bar = self._colour_bar(B_MAP, "B (T)", 6)
        self.fits = FitRunner(self)
        if live_fit:
            warm_up()  # the worker process starts while the window opens, not mid-run
        self.fits.done.connect(self._fitted)
        self.fit_errors: dict[str, str] = {}

    # --- data ---------------------------------------------------------------------------
    def _colour_bar(self, name: str, label: str, col: int) -> pg.ColorBarItem:
        bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get(name), label=label,
                              interactive=False, width=12, colorMapMenu=False)
        self.plot.getPlotItem().layout.addItem(bar, 2, col)
        bar.setVisible(False)
        return bar

    def begin_spectrum(self, key: str, attrs: dict) -> None:
        """A new spectrum ``key`` (attributes as the segment's: temperature_K, field_T,
        setpoint_K ...); the previous unfinished ones are finished (and fitted)."""
        for other in self.traces.values():
            if not other.finished:
                self.finish(other.key)
        self.traces[key] = SpectrumTrace(key, dict(attrs))
        self._trim()

    def extend(self, key: str, bias_V, didv_S, dvdi_Ohm=None, temperature_K=None) -> None:
        """Append points to spectrum ``key`` (begun implicitly); drawn by :meth:`refresh`."""
        tr = self.traces.get(key)
        if tr is None:
            self.begin_spectrum(key, {})
            tr = self.traces[key]
        v = np.atleast_1d(np.asarray(bias_V, dtype=float))
        tr.g.extend(v, np.atleast_1d(np.asarray(didv_S, dtype=float)))
        if dvdi_Ohm is not None:
            tr.r.extend(v, np.atleast_1d(np.asarray(dvdi_Ohm, dtype=float)))
        if temperature_K is not None:
            t = np.atleast_1d(np.asarray(temperature_K, dtype=float))
            t = t[np.isfinite(t)]
            tr.t_sum += float(t.sum())
            tr.t_n += int(t.size)
        self._dirty.add(key)

    def point_count(self, key: str) -> int:
        """Points held for spectrum ``key``."""
        return self.traces[key].g.n if key in self.traces else 0

    @property
    def buffers(self) -> dict[str, GrowingXY]:
        """Raw (V, dI/dV) points of each spectrum."""
        return {k: t.g for k, t in self.traces.items()}

    @property
    def curves(self) -> dict[str, pg.PlotDataItem]:
        """Data curve of each drawn spectrum."""
        return {k: t.curve for k, t in self.traces.items() if t.curve is not None}

    def finish(self, key: str) -> None:
        """Spectrum ``key`` is complete: draw it and fit it in the thread pool."""
        tr = self.traces.get(key)
        if tr is None or tr.finished:
            return
        tr.finished = True
        self._dirty.add(key)
        self.refresh()
        if self.live_fit:
            self.fit(key)

    def finish_all(self) -> None:
        """Every spectrum is complete (the run ended)."""
        for key in list(self.traces):
            self.finish(key)
        self.refresh()

    def fit(self, key: str, temperature_K: float | None = None, **options) -> bool:
        """Fit spectrum ``key`` off the GUI thread (options as pcsdaq fit's); False when it
        has too few points or no temperature."""
        tr = self.traces[key]
        t = temperature_K if temperature_K is not None else tr.temperature_K
        if tr.g.n < MIN_FIT_POINTS or t is None or not math.isfinite(t) or t <= 0:
            return False
        v, g = (a.copy() for a in tr.g.views())
        seg = spectrum_segment(key, {"V_dc_V": v, "dIdV_S": g})
        self.fits.submit(key, fit_with_curve, seg, temperature_K=t, **options)
        return True

    def _fitted(self, key: object, res: object, _thread: str) -> None:
        tr = self.traces.get(str(key))
        if tr is None:
            return
        if isinstance(res, Exception):
            self.fit_errors[tr.key] = f"{type(res).__name__}: {res}"
            return
        assert isinstance(res, dict)
        tr.fit = res
        self.live.superseded(tr.key)
        self._draw_fit(tr, self._offsets().get(tr.key, 0.0))

    def show_live_fit(self, key: str, fit: dict) -> bool:
        """A live fit update (a ``live_fit`` event, or a row of a watched run's live table)
        for spectrum ``key``; False when that spectrum is not shown."""
        return self.live.show(key, fit)

    def clear(self) -> None:
        """Remove every spectrum and fit."""
        for key in list(self.traces):
            self._drop(key)
        self._update_bars()

    def _drop(self, key: str) -> None:
        tr = self.traces.pop(key)
        self.live.drop(key)
        for item in (tr.curve, tr.fit_curve):
            if item is not None:
                self.plot.removeItem(item)
        self._dirty.discard(key)

    def _trim(self, *_args) -> None:
        n = self.keep.value()
        if n > 0:
            for key in list(self.traces)[:-n]:
                self._drop(key)
        self.redraw_all()

    # --- drawing ------------------------------------------------------------------------
    def _view_changed(self, name: str) -> None:
        label, unit = VIEWS[name]
        self.plot.setLabel("left", label, units=unit)
        self.redraw_all()

    def _offsets(self) -> dict[str, float]:
        step = self.offset.value()
        return {k: i * step for i, k in enumerate(self.traces)}

    def _y(self, tr: SpectrumTrace, level_offset: float) -> tuple[np.ndarray, np.ndarray]:
        v, g = tr.g.views()
        mode = self.view.currentText()
        if mode == "dI/dV" and level_offset == 0.0:
            return self.plot.shown(tr.g)  # views or the envelope: the live fast path
        gn = _normal_state(v, g) if mode != "dV/dI" or tr.r.n != tr.g.n else math.nan
        if mode == "G/G_N":
            return v, g / gn + level_offset
        if mode == "dV/dI":
            with np.errstate(divide="ignore"):
                r = tr.r.views()[1] if tr.r.n == tr.g.n else 1.0 / g
            rn = float(np.median(r[np.abs(v) >= np.quantile(np.abs(v), 0.85)])) if len(v) \
                else 1.0
            return v, r + level_offset * rn
        return v, g + level_offset * gn

    def _zoom_changed(self, *_args) -> None:
        if self.plot.zoomed() != self._zoomed:  # envelope <-> points (see LivePlot.shown)
            self._zoomed = self.plot.zoomed()
            self.redraw_all()

    def refresh(self) -> None:
        """Draw the points that arrived since the last refresh."""
        if not self._dirty:
            return
        offsets = self._offsets()
        for key in list(self._dirty):
            tr = self.traces.get(key)
            if tr is None:
                continue
            if tr.curve is None:
                tr.curve = self.plot.plot([], [], name=tr.key, pen=pg.mkPen(width=1.5),
                                          autoDownsampleFactor=DOWNSAMPLE_FACTOR)
                tr.curve.setDownsampling(auto=True, method="peak")
                tr.curve.setClipToView(True)
                self._update_bars()
            tr.curve.setData(*self._y(tr, offsets[key]))
        self._dirty.clear()

    def redraw_all(self, *_args) -> None:
        """Redraw every spectrum and fit (after a change of view, offset or kept set)."""
        self._dirty.update(k for k, t in self.traces.items() if t.curve is not None)
        self.refresh()
        offsets = self._offsets()
        for tr in self.traces.values():
            if tr.fit is not None:
                self._draw_fit(tr, offsets[tr.key])
        self.live.redraw_all(offsets)

    def _draw_fit(self, tr: SpectrumTrace, level_offset: float) -> None:
        res = tr.fit
        assert res is not None
        v, g_norm = res["curve_bias_V"], res["curve_g_norm"]
        gn = res["g_normal_S"] if math.isfinite(res["g_normal_S"]) else 1.0
        mode = self.view.currentText()
        if mode == "G/G_N":
            y = g_norm + level_offset
        elif mode == "dV/dI":
            with np.errstate(divide="ignore", invalid="ignore"):
                y = 1.0 / (g_norm * gn) + level_offset / gn
        else:
            y = g_norm * gn + level_offset * gn
        if tr.fit_curve is None:
            tr.fit_curve = self.plot.plot(v, y, name=fit_label(res), connect="finite",
                                          pen=pg.mkPen("k", width=1.2,
                                                       style=pg.QtCore.Qt.PenStyle.DashLine))
            tr.fit_curve.setClipToView(True)
        else:
            tr.fit_curve.setData(v, y, connect="finite")

    def _update_bars(self) -> None:
        """Colour every curve from its T (T map) or B (B map), bars spanning the values."""
        for bar, by_field in ((self.t_bar, False), (self.b_bar, True)):
            traces = [t for t in self.traces.values() if t.by_field == by_field and
                      t.curve is not None]
            values = [abs(float(t.attrs["field_T"])) if by_field else t.temperature_K
                      for t in traces]
            known = [x for x in values if x is not None and math.isfinite(x)]
            bar.setVisible(bool(known))
            if not known:
                continue
            lo, hi = min(known), max(known)
            if hi - lo < 1e-9:
                lo, hi = lo - 0.5, hi + 0.5
            bar.setLevels((lo, hi))
            cmap = bar.colorMap()
            for tr, x in zip(traces, values, strict=True):
                frac = 0.5 if x is None or not math.isfinite(x) else (x - lo) / (hi - lo)
                assert tr.curve is not None
                tr.curve.setPen(pg.mkPen(cmap.map(0.1 + 0.8 * frac, mode="qcolor"), width=1.5))

    def export_png(self, path: str) -> None:
        """Save the plot (with its legend and colour bars) as a PNG image."""
        self.plot.export_png(path)
