"""Incremental live plots: growing numpy buffers fed to pyqtgraph curves.

Each update appends only the new points to a preallocated buffer (capacity doubles
when full) and hands views of the filled part to ``setData``. Above
:data:`DECIMATE_ABOVE` points a curve is handed over as the min/max envelope of each
:data:`BLOCK` points (kept up to date incrementally: only new blocks are reduced) plus the
newest points, so pyqtgraph's per-update work (finite check, bounds, peak downsampling) and
the paint stay flat at 10^6 points; zoomed in (x auto-range off) the plot gets the points
themselves and pyqtgraph's clip-to-view.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg

#: curves with more points than this are drawn from their min/max envelope
DECIMATE_ABOVE = 50_000
#: points per envelope block (each block gives its minimum and maximum, in order)
BLOCK = 64
#: pyqtgraph's auto-downsampling: bins per pixel column (its default 5 draws 5x more line
#: segments than the screen shows: 8000 instead of 1600 at 800 px, 4x the paint time)
DOWNSAMPLE_FACTOR = 1.0


class GrowingXY:
    """Preallocated x/y float64 buffers that grow by doubling (units are the caller's)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0
        self._env: GrowingXY | None = None  # min/max envelope of the folded blocks
        self._folded = 0  # points folded into the envelope (a multiple of BLOCK)

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Append the new points ``x``, ``y`` (same length)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        need = self.n + len(x)
        if need > len(self.x):
            cap = max(need, 2 * len(self.x))
            for attr in ("x", "y"):
                new = np.empty(cap)
                new[: self.n] = getattr(self, attr)[: self.n]
                setattr(self, attr, new)
        self.x[self.n:need] = x
        self.y[self.n:need] = y
        self.n = need

    def views(self) -> tuple[np.ndarray, np.ndarray]:
        """Views (no copies) of the filled part."""
        return self.x[: self.n], self.y[: self.n]

    def display(self) -> tuple[np.ndarray, np.ndarray]:
        """What to draw: the points (views) up to DECIMATE_ABOVE of them, above that the
        min/max envelope of each BLOCK points followed by the newest points (at one line per
        pixel column it draws the same picture)."""
        if self.n <= DECIMATE_ABOVE:
            return self.views()
        self._fold()
        assert self._env is not None
        ex, ey = self._env.views()
        return (np.concatenate([ex, self.x[self._folded:self.n]]),
                np.concatenate([ey, self.y[self._folded:self.n]]))

    def _fold(self) -> None:
        """Reduce the complete blocks not folded yet to their (min, max) points; a block with
        a NaN (a break in the line) keeps all its points, so the break stays."""
        if self._env is None:
            self._env = GrowingXY(capacity=max(1024, 4 * self.n // BLOCK))
        end = self._folded + (self.n - self._folded) // BLOCK * BLOCK
        if end <= self._folded:
            return
        x = self.x[self._folded:end].reshape(-1, BLOCK)
        y = self.y[self._folded:end].reshape(-1, BLOCK)
        nan = np.isnan(y)
        lo = np.argmin(np.where(nan, np.inf, y), axis=1)
        hi = np.argmax(np.where(nan, -np.inf, y), axis=1)
        rows = np.arange(len(y))[:, None]
        order = np.column_stack([np.minimum(lo, hi), np.maximum(lo, hi)])
        px, py = x[rows, order], y[rows, order]
        gaps = np.flatnonzero(nan.any(axis=1))
        start = 0
        for i in gaps.tolist():  # rare: e.g. one per segment of T vs time
            self._env.extend(px[start:i].ravel(), py[start:i].ravel())
            self._env.extend(x[i], y[i])
            start = i + 1
        self._env.extend(px[start:].ravel(), py[start:].ravel())
        self._folded = end


#: auto-range margin: when the data outgrow the view, the new view has this fraction of the
#: data's span to spare on each side
AUTO_RANGE_MARGIN = 0.1
#: auto-range shrinks the view only when the data fill less than this fraction of it
AUTO_RANGE_SHRINK = 0.5


def sticky_range(current: tuple[float, float], target: tuple[float, float],
                 margin: float = AUTO_RANGE_MARGIN,
                 shrink: float = AUTO_RANGE_SHRINK) -> tuple[float, float] | None:
    """The auto-ranged view along one axis given the ``current`` view and the ``target``
    range pyqtgraph's auto-range asks for (data plus padding): None (keep the view) while
    the target lies inside it and fills at least ``shrink`` of it, else the target with
    ``margin`` of its span added on each side."""
    lo, hi = float(target[0]), float(target[1])
    c_lo, c_hi = float(current[0]), float(current[1])
    span = hi - lo
    if c_lo <= lo and hi <= c_hi and span >= shrink * (c_hi - c_lo):
        return None
    return lo - margin * span, hi + margin * span


class StickyViewBox(pg.ViewBox):
    """A ViewBox whose auto-range moves the view only when the data leave it (or fill less
    than half of it), with a margin to grow into, instead of on every new point: each range
    change re-lays out the axes' ticks and labels, the largest part of a live plot's paint
    (benchmarks/bench_gui.py). The user's pan, zoom and "A" button work as in pyqtgraph."""

    def setRange(self, rect=None, xRange=None, yRange=None, padding=None, update=True,
                 disableAutoRange=True):
        """pyqtgraph's setRange; a call from the auto-range (``disableAutoRange=False``
        while it updates) goes through :func:`sticky_range` first."""
        if getattr(self, "_updatingRange", False) and not disableAutoRange and rect is None:
            current = self.viewRange()
            if xRange is not None:
                xRange = sticky_range(current[0], xRange)
            if yRange is not None:
                yRange = sticky_range(current[1], yRange)
            if xRange is None and yRange is None:
                return None
        return super().setRange(rect, xRange, yRange, padding, update, disableAutoRange)


class LivePlot(pg.PlotWidget):
    """One plot with one curve per series key (e.g. one spectrum per temperature).

    ``append(key, x, y)`` adds only the new points to that key's curve.
    """

    def __init__(self, xlabel: str, xunit: str, ylabel: str, yunit: str, parent=None) -> None:
        super().__init__(parent, viewBox=StickyViewBox())
        self.setBackground("w")
        self.setLabel("bottom", xlabel, units=xunit)
        self.setLabel("left", ylabel, units=yunit)
        # no grid by default: pyqtgraph's grid costs ~8 ms per repaint of an 800x500 plot,
        # as much as 10^6 downsampled points (benchmarks/bench_gui.py); the plot's context
        # menu (right click > Plot Options > Grid) switches it on
        self.legend = self.addLegend(labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 210))
        self.buffers: dict[str, GrowingXY] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._dirty: set[str] = set()
        self.cursor_text = pg.TextItem(anchor=(0, 0), color="k")
        self.addItem(self.cursor_text, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._on_mouse)
        self._zoomed = False
        self.getPlotItem().getViewBox().sigStateChanged.connect(self._view_state)

    def _curve(self, key: str, color=None) -> pg.PlotDataItem:
        if key not in self.curves:
            color = color if color is not None else pg.intColor(len(self.curves), hues=9)
            curve = self.plot([], [], pen=pg.mkPen(color, width=1.5), name=key,
                              autoDownsampleFactor=DOWNSAMPLE_FACTOR)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves[key] = curve
            self.buffers[key] = GrowingXY()
        return self.curves[key]

    def add_curve(self, key: str, color=None) -> None:
        """Create the curve ``key`` now (e.g. with a colour chosen from its temperature)."""
        self._curve(key, color)

    def append(self, key: str, x, y, redraw: bool = True) -> None:
        """Append new points (arrays or scalars) to the curve ``key``; with ``redraw=False``
        the curve is only marked and drawn by the next :meth:`refresh` (batched updates)."""
        curve = self._curve(key)
        buf = self.buffers[key]
        buf.extend(np.atleast_1d(x), np.atleast_1d(y))
        if redraw:
            curve.setData(*self.shown(buf))
        else:
            self._dirty.add(key)

    def zoomed(self) -> bool:
        """True when the x range is the user's (auto-range off): the points are drawn
        themselves, not their envelope."""
        return not self.getPlotItem().getViewBox().autoRangeEnabled()[0]

    def shown(self, buf: GrowingXY) -> tuple[np.ndarray, np.ndarray]:
        """The arrays to hand pyqtgraph for ``buf``: its envelope unless zoomed in."""
        return buf.views() if self._zoomed else buf.display()

    def _view_state(self, *_args) -> None:
        zoomed = self.zoomed()
        if zoomed != self._zoomed:
            self._zoomed = zoomed
            self._dirty.update(k for k, b in self.buffers.items() if b.n > DECIMATE_ABOVE)
            self.refresh()

    def refresh(self) -> None:
        """Hand the new points of every marked curve to pyqtgraph (one setData each)."""
        for key in self._dirty:
            self.curves[key].setData(*self.shown(self.buffers[key]))
        self._dirty.clear()

    def point_count(self, key: str) -> int:
        """Number of points held for ``key``."""
        return self.buffers[key].n if key in self.buffers else 0

    def clear_curves(self) -> None:
        """Remove every curve and buffer."""
        for curve in self.curves.values():
            self.removeItem(curve)
        self.legend.clear()
        self._dirty.clear()
        self.curves.clear()
        self.buffers.clear()

    def _on_mouse(self, pos) -> None:
        if self.sceneBoundingRect().contains(pos):
            p = self.plotItem.vb.mapSceneToView(pos)
            self.cursor_text.setText(f"x={p.x():.4g}  y={p.y():.4g}")
            self.cursor_text.setPos(p)

    def export_png(self, path: str) -> None:
        """Save the plot as a PNG image at ``path``."""
        self.grab().save(str(path), "PNG")


class RTPlot(LivePlot):
    """R vs T, one curve per R(T) segment, with each segment's Tc construction
    (:func:`pcsdaq.analysis.tc.tc_from_rt`: the normal-state line, the line through the steep
    part and their crossing) drawn once the segment is complete; computed off the GUI
    thread."""

    def __init__(self, parent=None) -> None:
        super().__init__("Temperature", "K", "Resistance", "Ohm", parent)
        from pcsdaq.gui.fit_worker import FitRunner

        self.tc: dict[str, object] = {}  #: segment -> TcResult, or the reason there is none
        self.tc_items: dict[str, list[pg.GraphicsObject]] = {}
        self.finished: set[str] = set()
        self.fits = FitRunner()
        self.fits.done.connect(self._tc_done)

    def finish(self, key: str) -> None:
        """Segment ``key`` is complete: find its Tc in the thread pool."""
        if key in self.finished or self.point_count(key) < 10:
            return
        self.finished.add(key)
        from pcsdaq.analysis.tc import tc_from_rt

        t, r = (a.copy() for a in self.buffers[key].views())
        self.fits.submit(key, tc_from_rt, t, r)

    def finish_all(self) -> None:
        """Every segment is complete."""
        for key in list(self.buffers):
            self.finish(key)

    def _tc_done(self, key: object, res: object, _thread: str) -> None:
        key = str(key)
        if key not in self.curves:
            return
        from pcsdaq.analysis.tc import TcResult

        if not isinstance(res, TcResult):
            self.tc[key] = str(res)  # no transition: the reason
            return
        self.tc[key] = res
        t = self.buffers[key].views()[0]
        lo, hi = float(np.nanmin(t)), float(np.nanmax(t))
        tc = res.tc_two_slope_K
        upper = np.array([min(tc, res.upper_range_K[0]) - 0.05 * (hi - lo), hi])
        span = max(res.lower_range_K[1] - res.lower_range_K[0], 0.05 * (hi - lo))
        lower = np.array([tc - span, tc + span])
        items = [
            self.plot(upper, res.upper_slope_ohm_per_K * upper + res.upper_intercept_ohm,
                      pen=pg.mkPen("k", width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                      name=f"{key}: normal-state line"),
            self.plot(lower, res.lower_slope_ohm_per_K * lower + res.lower_intercept_ohm,
                      pen=pg.mkPen("r", width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
                      name=f"{key}: steep line"),
            self.plot([tc], [res.upper_slope_ohm_per_K * tc + res.upper_intercept_ohm],
                      pen=None, symbol="o", symbolBrush="r", symbolSize=9,
                      name=f"Tc = {tc:.3f} K (two-slope; midpoint {res.tc_midpoint_K:.3f} K)"),
        ]
        self.tc_items[key] = items

    def clear_curves(self) -> None:
        """Remove every curve and construction."""
        super().clear_curves()
        for items in self.tc_items.values():
            for item in items:
                self.removeItem(item)
        self.tc_items.clear()
        self.tc.clear()
        self.finished.clear()


class TimePlot(LivePlot):
    """T against clock time (a date axis, so the waits between steps keep their length),
    with the setpoint as a dashed line (NaN between segments breaks it)."""

    def __init__(self, parent=None) -> None:
        super().__init__("Time", "", "Temperature", "K", parent)
        self.setAxisItems({"bottom": pg.DateAxisItem()})
        self._curve("T", "b").opts["connect"] = "finite"
        sp = self._curve("setpoint", "r")
        sp.setPen(pg.mkPen("r", width=1.2, style=pg.QtCore.Qt.PenStyle.DashLine))
        sp.opts["connect"] = "finite"


class LivePlots:
    """The cooldown plots: spectra (:class:`~pcsdaq.gui.spectra_view.SpectraView`: raw or
    normalised dI/dV or dV/dI with fits), R vs T with the Tc construction, R vs piezo steps
    during the approach, T vs clock time with the setpoint. Rows are engine point rows (the
    procedures' column names) or column blocks from a watched file; drawing is batched by
    :meth:`refresh`. Approach and R(T) segments never enter the spectra's legend."""

    def __init__(self) -> None:
        from pcsdaq.gui.spectra_view import SpectraView

        self.didv = SpectraView()
        self.rt = RTPlot()
        self.approach = LivePlot("Piezo steps", "", "Contact resistance", "Ohm")
        self.approach.setLogMode(y=True)
        self.t_time = TimePlot()
        self._segment_start = time.time()
        self._setpoint: float | None = None
        self._last_rt: str | None = None
        self._segment_keys: dict[tuple[int, str], str] = {}  #: (step, name) -> curve key

    def begin_segment(self, step: int, name: str, attrs: dict,
                      start_time: float | None = None) -> str:
        """New spectrum / R(T) / approach segment: its curve key. ``start_time`` (s since
        the epoch) places its rows on the clock; default now."""
        label = f"{step + 1}:{name}"
        if attrs.get("temperature_K") is not None:
            label = f"{label} ({float(attrs['temperature_K']):.2f} K)"
        self._segment_keys[(int(step), str(name))] = label
        self.end_segment()
        # never before the previous segment's last point (a virtual clock runs ahead)
        start = time.time() if start_time is None else float(start_time)
        self._segment_start = max(start, self._last_clock)
        sp = attrs.get("setpoint_K")
        self._setpoint = float(sp) if sp is not None else None
        for key in ("T", "setpoint"):  # NaN: a break in the line between segments
            self.t_time.append(key, self._segment_start, np.nan, redraw=False)
        self._pending = (label, {**attrs, "_name": name})
        return label

    _pending: tuple[str, dict] | None = None
    _last_clock = 0.0

    def end_segment(self) -> None:
        """The current segment is complete: fit its spectrum, find its Tc."""
        self.didv.finish_all()
        if self._last_rt is not None:
            self.rt.finish(self._last_rt)
            self._last_rt = None

    def finish(self) -> None:
        """The run ended: complete every segment and draw."""
        self.refresh()
        self.end_segment()
        self.rt.finish_all()

    def ingest_row(self, segment: str, row: dict) -> None:
        """Route one engine point row (column -> value) into the matching plots."""
        self.ingest_columns(segment, {k: np.atleast_1d(v) for k, v in row.items()
                                      if isinstance(v, (int, float, np.number))})

    def ingest_columns(self, segment: str, cols: dict[str, np.ndarray]) -> None:
        """Route a block of rows (column -> array, SI units) into the matching plots."""
        n = len(next(iter(cols.values()))) if cols else 0
        if not n:
            return
        if "V_dc_V" in cols and "dIdV_S" in cols:
            if segment not in self.didv.traces:
                pending = self._pending[1] if self._pending and self._pending[0] == segment \
                    else {}
                self.didv.begin_spectrum(segment, pending)
            self.didv.extend(segment, cols["V_dc_V"], cols["dIdV_S"], cols.get("dVdI_Ohm"),
                             cols.get("temperature_K"))
        elif "R_Ohm" in cols and "steps_total" in cols:
            self.approach.append(segment, cols["steps_total"], cols["R_Ohm"], redraw=False)
        elif "R_Ohm" in cols and "temperature_K" in cols:
            self.rt.append(segment, cols["temperature_K"], cols["R_Ohm"], redraw=False)
            self._last_rt = segment
        t = cols.get("temperature_K")
        if "time_s" in cols and t is not None:
            clock = self._segment_start + np.asarray(cols["time_s"], dtype=float)
            self.t_time.append("T", clock, t, redraw=False)
            self._last_clock = max(self._last_clock, float(np.nanmax(clock)))
            if self._setpoint is not None:
                self.t_time.append("setpoint", clock, np.full(n, self._setpoint), redraw=False)

    def live_fit(self, event: dict) -> bool:
        """A ``live_fit`` event (step, segment_name, the fit's values): shown over its
        spectrum; False when that spectrum is not on the plot."""
        key = event.get("key") or self._segment_keys.get(
            (int(event.get("step", 0)), str(event.get("segment_name", ""))))
        if key is None:
            return False
        return self.didv.show_live_fit(str(key), event)

    def refresh(self) -> None:
        """Draw what arrived since the last refresh."""
        self.didv.refresh()
        for plot in (self.rt, self.approach, self.t_time):
            plot.refresh()
