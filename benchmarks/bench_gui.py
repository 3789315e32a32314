"""Cost of one live-plot update with 100 new points at 1e3, 1e5, 1e6 points held.

Compares pcsdaq.gui.live_plots.LivePlot.append with pymeasure's
ResultsCurve.update_data (which re-reads its Results), side by side in one run,
offscreen, including the paint (grab + processEvents). Prints medians in ms.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import ClassVar

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg
from pymeasure.display.curves import ResultsCurve
from pymeasure.experiment import Procedure, Results

from pcsdaq.gui.live_plots import LivePlot


class _Proc(Procedure):
    DATA_COLUMNS: ClassVar[list[str]] = ["V", "G"]


def _median_ms(fn, reps: int = 7) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def bench(n: int, app) -> tuple[float, float]:
    """Return (pcsdaq ms, pymeasure ms) for one 100-point update at n points held."""
    plot = LivePlot("Bias", "V", "dI/dV", "S")
    plot.resize(800, 500)
    plot.show()
    x = np.linspace(-1, 1, n)
    plot.append("s", x, np.sin(x))
    app.processEvents()

    def ours():
        plot.append("s", np.full(100, 1.0), np.zeros(100))
        plot.grab()
        app.processEvents()

    t_ours = _median_ms(ours)
    plot.close()

    fname = os.path.join(tempfile.mkdtemp(), "bench.csv")
    results = Results(_Proc(), fname)
    with open(fname, "a") as fh:
        np.savetxt(fh, np.column_stack([x, np.sin(x)]), delimiter=",", fmt="%.9g")
    pw = pg.PlotWidget()
    pw.resize(800, 500)
    pw.show()
    curve = ResultsCurve(results, "V", "G", pen=pg.mkPen("b"))
    pw.addItem(curve)
    curve.update_data()
    app.processEvents()

    def theirs():
        with open(fname, "a") as fh:
            np.savetxt(fh, np.zeros((100, 2)), delimiter=",", fmt="%.9g")
        curve.update_data()
        pw.grab()
        app.processEvents()

    t_theirs = _median_ms(theirs, reps=5)
    pw.close()
    os.unlink(fname)
    return t_ours, t_theirs


def gui_thread_latency(app) -> tuple[float, float, int]:
    """Largest and median gap (ms) between 10 ms timer ticks on the GUI thread while the main
    window shows a temperature series run by the engine on the in-process simulated lab
    (virtual clock: points arrive as fast as the machine makes them), and the points shown."""
    from pyqtgraph.Qt import QtCore

    from pcsdaq.gui.app import build_engine
    from pcsdaq.gui.main_window import MainWindow
    from pcsdaq.runner.plan import PlanStep

    engine, lab, _server = build_engine(None, False, tempfile.mkdtemp(), time_scale=0)
    lab.contact.place()
    settings = QtCore.QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"),
                                QtCore.QSettings.Format.IniFormat)
    win = MainWindow(engine, settings=settings)
    win.resize(1280, 820)
    win.show()
    engine.enqueue(PlanStep("temperature_series", {"setpoints_K": [2.0, 5.0, 8.0],
                                                   "n_points": 401, "window_s": 10.0,
                                                   "max_current_A": 5e-4,
                                                   "sensitivity_V": 1e-5}))
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1e3)
        last[0] = now

    timer = QtCore.QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    engine.start()
    while not engine.wait(0.0):
        app.processEvents()
    app.processEvents()
    timer.stop()
    points = sum(b.n for b in win.plots.didv.buffers.values())
    win.close()
    engine.station.close()
    return max(gaps), statistics.median(gaps), points


def main() -> None:
    """Print the table of update costs and ratios, then the GUI thread's latency."""
    app = pg.mkQApp()
    print(f"{'points':>9} {'pcsdaq ms':>10} {'pymeasure ms':>13} {'ratio':>7}")
    for n in (10**3, 10**5, 10**6):
        ours, theirs = bench(n, app)
        print(f"{n:>9} {ours:>10.2f} {theirs:>13.2f} {theirs / ours:>7.1f}")
    worst, median, points = gui_thread_latency(app)
    print(f"GUI thread during a simulated temperature series ({points} points): longest gap "
          f"between 10 ms ticks {worst:.1f} ms, median {median:.1f} ms (goal: never > 50 ms)")


if __name__ == "__main__":
    main()
