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
        self.showGrid(x=True, y=True, alpha=0.3)
        self.legend = self.addLegend()
        self.buffers: dict[str, GrowingXY] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.cursor_text = pg.TextItem(anchor=(0, 0), color="k")
        self.addItem(self.cursor_text, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._on_mouse)

    def _curve(self, key: str) -> pg.PlotDataItem:
        if key not in self.curves:
            color = pg.intColor(len(self.curves), hues=9)
            curve = self.plot([], [], pen=pg.mkPen(color, width=1.5), name=key)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves[key] = curve
            self.buffers[key] = GrowingXY()
        return self.curves[key]

    def append(self, key: str, x, y) -> None:
        """Append new points (arrays or scalars) to the curve ``key``."""
        curve = self._curve(key)
        buf = self.buffers[key]
        buf.extend(np.atleast_1d(x), np.atleast_1d(y))
        curve.setData(*buf.views())

    def point_count(self, key: str) -> int:
        """Number of points held for ``key``."""
        return self.buffers[key].n if key in self.buffers else 0

    def clear_curves(self) -> None:
        """Remove every curve and buffer."""
        for curve in self.curves.values():
            self.removeItem(curve)
        self.legend.clear()
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


class LivePlots:
    """The three cooldown plots: dI/dV vs V per spectrum, R vs T, T vs time."""

    def __init__(self) -> None:
        self.didv = LivePlot("Bias", "V", "dI/dV", "S")
        self.rt = LivePlot("Temperature", "K", "Resistance", "Ohm")
        self.t_time = LivePlot("Time", "s", "Temperature", "K")

    def ingest_row(self, segment: str, row: dict) -> None:
        """Route one engine point row (column -> value) into the matching plots."""
        if "bias_V" in row and "dIdV_S" in row:
            self.didv.append(segment, row["bias_V"], row["dIdV_S"])
        if "T_K" in row and "R_Ohm" in row:
            self.rt.append(segment, row["T_K"], row["R_Ohm"])
        if "time_s" in row and "T_K" in row:
            self.t_time.append("T", row["time_s"], row["T_K"])
