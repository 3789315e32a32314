"""GUI speed, offscreen.

1. Cost of one live-plot update with 100 new points at 1e3, 1e5, 1e6 points held:
   pcsdaq.gui.live_plots.LivePlot.append against pymeasure's ResultsCurve.update_data (which
   re-reads its Results), including the paint (grab + processEvents). Goal <= 20 ms at 1e6.
2. The GUI thread's longest stall during a simulated needle approach and temperature series
   (virtual clock, live fits included), with the engine in a process of its own as `pcsdaq
   gui` runs it. Goal: never > 50 ms. The same with the engine's thread in the GUI's process
   (as the GUI tests build it) is printed beside it, from alternating rounds.
3. The data browser opening a 10^5-point run and fitting it: the GUI thread's longest
   stall meanwhile. Goal: never > 50 ms.
4. Watching a run another process writes: delay from a row's write to its drawing.
   Goal: <= 0.5 s.
Prints medians in ms. Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py
"""

from __future__ import annotations

import gc
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


#: rounds of the series bench (each runs both engine placements once)
SERIES_ROUNDS = 3
#: the GUI's plan for the series bench: walk the needle in, then a three-temperature series
SERIES_PLAN = (
    ("needle_approach", {"target_min_ohm": 5.0, "target_max_ohm": 20.0, "steps_per_burst": 2,
                         "retract_steps": 3, "max_total_steps": 20000, "step_voltage_V": 30.0,
                         "step_frequency_Hz": 100.0}),
    ("temperature_series", {"setpoints_K": [2.0, 5.0, 8.0], "n_points": 401,
                            "window_s": 10.0, "max_current_A": 5e-4, "sensitivity_V": 1e-5}),
)


def gui_thread_latency(app, engine_in: str = "process") -> tuple[float, float, int, float]:
    """(largest gap ms, median gap ms, points shown, wall s): gaps between 10 ms timer ticks
    on the GUI thread while the main window shows an approach and a temperature series on
    the simulated lab (virtual clock: points arrive as fast as the machine makes them), live
    fits included.

    ``engine_in="process"``: the engine (and the lab) in a process of its own, as ``pcsdaq
    gui`` runs it; ``"thread"``: the engine's thread in the GUI's process (as the GUI tests
    build it)."""
    from pyqtgraph.Qt import QtCore

    from pcsdaq.gui.app import build_engine, settle_heap
    from pcsdaq.gui.engine_process import RemoteEngine
    from pcsdaq.gui.fit_worker import warm_up
    from pcsdaq.gui.main_window import MainWindow
    from pcsdaq.runner.plan import PlanStep

    data = tempfile.mkdtemp()
    engine = RemoteEngine(None, False, data, time_scale=0.0) if engine_in == "process" \
        else build_engine(None, False, data, time_scale=0.0)[0]
    settings = QtCore.QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"),
                                QtCore.QSettings.Format.IniFormat)
    win = MainWindow(engine, settings=settings)
    win.resize(1280, 820)
    win.show()
    for procedure, parameters in SERIES_PLAN:
        engine.enqueue(PlanStep(procedure, dict(parameters)))
    warm_up().result(timeout=120)  # as when the window has been open a few seconds
    _pump(app, lambda: False, 0.5)  # the window's first paints
    settle_heap()  # as pcsdaq gui does once its window is up
    ended = []
    engine.subscribe(lambda ev: ended.append(ev) if ev.get("type") == "status" and
                     ev.get("state") in ("finished", "aborted", "failed") else None)
    ticks = _Ticks()
    t0 = time.perf_counter()
    engine.start()
    _pump(app, lambda: bool(ended), 900)
    # the spectra's fits, in the worker process
    _pump(app, lambda: not win.plots.didv.fits.pending, 30)
    wall = time.perf_counter() - t0
    app.processEvents()
    ticks.timer.stop()
    if not ended or ended[0].get("state") != "finished":
        raise RuntimeError(f"the bench's plan ended {ended[:1]}")
    points = sum(b.n for b in win.plots.didv.buffers.values())
    win.close()
    engine.station.close()
    gc.unfreeze()  # this window's objects may go now
    return max(ticks.gaps), statistics.median(ticks.gaps), points, wall


class _Ticks:
    """Gaps (ms) between 10 ms timer ticks on the GUI thread."""

    def __init__(self) -> None:
        from pyqtgraph.Qt import QtCore

        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QtCore.QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(10)

    def tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self.last) * 1e3)
        self.last = now


def _pump(app, until, timeout_s: float) -> None:
    """Run Qt's event loop (as the GUI's app.exec() does: it sleeps between events) until
    ``until()`` or the timeout; checked every 5 ms. (A loop calling processEvents() without
    pause competes with the engine's thread for the interpreter lock and a core: it made
    the stalls it measured.)"""
    from pyqtgraph.Qt import QtCore

    deadline = time.perf_counter() + timeout_s
    if until():
        return
    loop = QtCore.QEventLoop()
    check = QtCore.QTimer()
    check.timeout.connect(lambda: loop.quit() if until() or time.perf_counter() > deadline
                          else None)
    check.start(5)
    loop.exec()
    check.stop()


def browser_latency(app, n: int = 100_000) -> tuple[float, float, float]:
    """(longest GUI-thread gap ms, open s, fit s) while the data browser opens an n-point
    run (one spectrum, noisy BTK) and fits it."""
    from pcsdaq.gui.data_browser import DataBrowser
    from pcsdaq.physics import andreev
    from pcsdaq.storage import RunWriter

    path = os.path.join(tempfile.mkdtemp(), "big.h5")
    v = np.linspace(-10e-3, 10e-3, n)
    g = 0.04 * andreev.conductance(v * 1e3, "btk", (1.5, 0.5, 0.1, 0.0), 2.0)
    g = g * (1 + 2e-3 * np.random.default_rng(1).standard_normal(n))
    with RunWriter(path, procedure="bias_sweep",
                   columns={"V_dc_V": "V", "dIdV_S": "S", "temperature_K": "K"}) as w:
        w.begin_segment("sweep", temperature_K=2.0)
        for i in range(0, n, 5000):
            for j in range(i, min(i + 5000, n)):
                w.append({"V_dc_V": v[j], "dIdV_S": g[j], "temperature_K": 2.0})
    browser = DataBrowser()
    browser.resize(1000, 600)
    browser.show()
    # the window's first paints (fonts, axes: one-off, 50-100 ms on a busy machine) are not
    # part of opening a run
    _pump(app, lambda: False, 1.0)
    done: dict[str, object] = {}
    browser.opened.connect(lambda k: done.setdefault("opened", time.perf_counter()))
    browser.fitted.connect(lambda fit: done.setdefault("fitted", fit))
    ticks = _Ticks()
    t0 = time.perf_counter()
    browser.open_runs([path])
    _pump(app, lambda: "opened" in done, 60)
    t_open = float(done.get("opened", time.perf_counter())) - t0  # type: ignore[arg-type]
    browser.list.setCurrentRow(0)
    t1 = time.perf_counter()
    browser.fit_selected()
    _pump(app, lambda: "fitted" in done, 300)
    t_fit = time.perf_counter() - t1
    app.processEvents()
    ticks.timer.stop()
    browser.close()
    return max(ticks.gaps), t_open, t_fit


_WRITER = """
import sys, time
from pcsdaq.storage import RunWriter
w = RunWriter(sys.argv[1], procedure="bias_sweep", columns={"time_s": "s", "V_dc_V": "V",
              "dIdV_S": "S", "temperature_K": "K", "written_s": "s"})
w.begin_segment("sweep", temperature_K=2.0)
t0 = time.time()
for k in range(int(sys.argv[2])):
    w.append({"time_s": time.time() - t0, "V_dc_V": k * 1e-6, "dIdV_S": 0.02,
              "temperature_K": 2.0, "written_s": time.time()})
    time.sleep(0.01)
w.close("finished")
"""


def watch_latency(app, rows: int = 400) -> tuple[float, float, int]:
    """(median ms, largest ms, rows drawn): delay from a row's write (another process,
    RunWriter, one row every 10 ms) to the redraw that shows it in a watching window."""
    import subprocess
    import sys

    from pyqtgraph.Qt import QtCore

    from pcsdaq.gui.main_window import MainWindow

    folder = tempfile.mkdtemp()
    settings = QtCore.QSettings(os.path.join(folder, "s.ini"),
                                QtCore.QSettings.Format.IniFormat)
    win = MainWindow(None, settings=settings)
    win.resize(1280, 820)
    win.show()
    pending: list[float] = []
    delays: list[float] = []
    ingest, refresh = win.plots.ingest_columns, win.plots.refresh

    def ingest_and_note(segment, cols):
        pending.extend(np.asarray(cols.get("written_s", []), dtype=float).tolist())
        ingest(segment, cols)

    def refresh_and_measure():
        refresh()
        now = time.time()
        delays.extend((now - w) * 1e3 for w in pending)
        pending.clear()

    win.plots.ingest_columns = ingest_and_note  # type: ignore[method-assign]
    win.plots.refresh = refresh_and_measure  # type: ignore[method-assign]
    win.redraw.timeout.disconnect()
    win.redraw.timeout.connect(refresh_and_measure)
    win.watch_folder(folder)
    path = os.path.join(folder, "20260101-000000_step01_bias_sweep.h5")
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, path, str(rows)])
    _pump(app, lambda: proc.poll() is not None and len(delays) >= rows, 120)
    proc.wait(30)
    win.close()
    return statistics.median(delays), max(delays), len(delays)


def main() -> None:
    """Print the table of update costs and ratios, then the GUI thread's latency."""
    app = pg.mkQApp()
    print(f"{'points':>9} {'pcsdaq ms':>10} {'pymeasure ms':>13} {'ratio':>7}")
    for n in (10**3, 10**5, 10**6):
        ours, theirs = bench(n, app)
        print(f"{n:>9} {ours:>10.2f} {theirs:>13.2f} {theirs / ours:>7.1f}")
    runs: dict[str, list[tuple[float, float, int, float]]] = {"process": [], "thread": []}
    for _ in range(SERIES_ROUNDS):  # alternating, so that both see the same machine
        for where in runs:
            runs[where].append(gui_thread_latency(app, where))
    for where, what in (("process", "engine in a process of its own, as `pcsdaq gui` runs it"),
                        ("thread", "engine's thread in the GUI's process")):
        worsts = [r[0] for r in runs[where]]
        points, wall = runs[where][-1][2], statistics.median(r[3] for r in runs[where])
        print(f"GUI thread during an approach and a temperature series ({what}; {points} "
              f"points in {wall:.1f} s): longest gap between 10 ms ticks, median of "
              f"{len(worsts)} runs {statistics.median(worsts):.1f} ms (runs: "
              f"{', '.join(f'{w:.1f}' for w in worsts)}), median gap "
              f"{statistics.median(r[1] for r in runs[where]):.1f} ms"
              + (" (goal: never > 50 ms)" if where == "process" else " (for comparison)"))
    worst, t_open, t_fit = browser_latency(app)
    print(f"data browser, 10^5-point run: opened in {t_open:.2f} s, fitted in {t_fit:.2f} s; "
          f"longest GUI-thread gap {worst:.1f} ms (goal: never > 50 ms)")
    med, worst, n = watch_latency(app)
    print(f"watching a run another process writes ({n} rows): write-to-screen delay median "
          f"{med:.0f} ms, largest {worst:.0f} ms (goal: <= 500 ms)")


if __name__ == "__main__":
    main()
