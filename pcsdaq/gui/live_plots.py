"""Incremental live plots: growing numpy buffers fed to pyqtgraph curves.

Each update appends only the new points to a preallocated buffer (capacity doubles
when full) and hands views of the filled part to ``setData``; downsampling and
clip-to-view keep the paint cost flat at 10^6 points.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


class GrowingXY:
    """Preallocated x/y float64 buffers that grow by doubling (units are the caller's)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.n = 0

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


class LivePlot(pg.PlotWidget):
    """One plot with one curve per series key (e.g. one spectrum per temperature).

    ``append(key, x, y)`` adds only the new points to that key's curve.
    """

    def __init__(self, xlabel: str, xunit: str, ylabel: str, yunit: str, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setLabel("bottom", xlabel, units=xunit)
        self.setLabel("left", ylabel, units=yunit)
        # no grid by default: pyqtgraph's grid costs ~8 ms per repaint of an 800x500 plot,
        # as much as 10^6 downsampled points (benchmarks/bench_gui.py); the plot's context
        # menu (right click > Plot Options > Grid) switches it on
        self.legend = self.addLegend()
        self.buffers: dict[str, GrowingXY] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._dirty: set[str] = set()
        self.cursor_text = pg.TextItem(anchor=(0, 0), color="k")
        self.addItem(self.cursor_text, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._on_mouse)

    def _curve(self, key: str, color=None) -> pg.PlotDataItem:
        if key not in self.curves:
            color = color if color is not None else pg.intColor(len(self.curves), hues=9)
            curve = self.plot([], [], pen=pg.mkPen(color, width=1.5), name=key)
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
            curve.setData(*buf.views())
        else:
            self._dirty.add(key)

    def refresh(self) -> None:
        """Hand the new points of every marked curve to pyqtgraph (one setData each)."""
        for key in self._dirty:
            self.curves[key].setData(*self.buffers[key].views())
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


def series_color(attrs: dict) -> object:
    """Colour of a spectrum from its temperature (blue 0 K .. red 20 K) or field (0..7 T)."""
    t, b = attrs.get("temperature_K"), attrs.get("field_T")
    if b is not None and attrs.get("setpoint_K") is None and b == b and abs(b) > 0:
        frac = min(abs(float(b)) / 7.0, 1.0)
    elif t is not None and t == t:
        frac = min(max(float(t), 0.0) / 20.0, 1.0)
    else:
        return None
    return pg.mkColor(int(255 * frac), 60, int(255 * (1 - frac)))


class LivePlots:
    """The three cooldown plots: dI/dV vs V (one curve per spectrum, coloured by T or B, with a
    legend), R vs T (one curve per field), T vs time. Rows are engine point rows (the
    procedures' column names); drawing is batched by :meth:`refresh`."""

    def __init__(self) -> None:
        self.didv = LivePlot("Bias", "V", "dI/dV", "S")
        self.rt = LivePlot("Temperature", "K", "Resistance", "Ohm")
        self.t_time = LivePlot("Time", "s", "Temperature", "K")
        self._t0: float | None = None
        self._elapsed = 0.0

    def begin_segment(self, step: int, name: str, attrs: dict) -> str:
        """New spectrum / R(T) segment: its curve key (with a colour from T or B)."""
        label = f"{step + 1}:{name}"
        if attrs.get("temperature_K") is not None:
            label = f"{label} ({float(attrs['temperature_K']):.2f} K)"
        self.didv.add_curve(label, series_color(attrs))
        return label

    def ingest_row(self, segment: str, row: dict) -> None:
        """Route one engine point row (column -> value) into the matching plots."""
        if "V_dc_V" in row and "dIdV_S" in row:
            self.didv.append(segment, row["V_dc_V"], row["dIdV_S"], redraw=False)
        if "R_Ohm" in row and "temperature_K" in row and "steps_total" not in row:
            self.rt.append(segment, row["temperature_K"], row["R_Ohm"], redraw=False)
        t = row.get("temperature_K")
        if "time_s" in row and t is not None and t == t:
            # a run's time restarts at each segment: plot against time since the GUI saw data
            if self._t0 is None or row["time_s"] < self._last_time:
                self._t0 = self._elapsed - row["time_s"]
            self._last_time = row["time_s"]
            self._elapsed = self._t0 + row["time_s"]
            self.t_time.append("T", self._elapsed, t, redraw=False)

    _last_time = 0.0

    def refresh(self) -> None:
        """Draw what arrived since the last refresh."""
        for plot in (self.didv, self.rt, self.t_time):
            plot.refresh()
