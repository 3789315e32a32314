"""README screenshots from a real simulated run: the queue table mid-run (docs/gui-queue.png)
and a quench alarm (docs/gui-alarm.png). PCSDAQ_UPDATE_SCREENSHOT=1 writes them to docs/."""

import os
from pathlib import Path

from PyQt6 import QtCore, QtWidgets

from pcsdaq.runner.plan import PlanStep

SWEEP = {"max_current_A": 5e-4, "sensitivity_V": 1e-5, "n_points": 151}


def _out(tmp_path: Path, name: str) -> Path:
    if os.environ.get("PCSDAQ_UPDATE_SCREENSHOT") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / name
    return tmp_path / name


def test_screenshots_of_the_queue_mid_run_and_a_quench(sim_window, tmp_path, qtbot):
    lab, _station, engine, win = sim_window
    win.resize(1440, 900)
    for s in win.findChildren(QtWidgets.QSplitter):
        if s.orientation() == QtCore.Qt.Orientation.Horizontal:
            s.setSizes([760, 680])  # room for the queue table's columns
        else:
            s.setSizes([300, 200, 400] if s.count() == 3 else [650, 250])
    for step in (PlanStep("bias_sweep", SWEEP, "zero-field spectrum"),
                 PlanStep("temperature_series", dict(SWEEP, setpoints_K=[2.0, 4.0, 6.0, 8.0],
                                                     window_s=10.0, field_T=0.0)),
                 PlanStep("field_series", dict(SWEEP, fields_T=[0.0, 0.5, 1.0],
                                               keep_temperature=True)),
                 PlanStep("bias_sweep", dict(SWEEP, n_points=401), "final spectrum")):
        engine.enqueue(step)
    win.queue.refresh()
    win.show()
    qtbot.waitExposed(win)
    qtbot.mouseClick(win.controls.buttons["start"], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.queue.tracker.fraction[1] > 0.4, timeout=60000)
    qtbot.mouseClick(win.controls.buttons["pause"], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.queue.table.item(1, 3).text() == "paused", timeout=5000)
    win.dashboard.refresh()
    qtbot.waitUntil(lambda: win.dashboard.labels["magnet"].text() != "-", timeout=5000)
    win.procedures.select("temperature_series")
    win.queue.update_times()
    win.plots.refresh()
    assert win.queue.table.item(0, 3).text() == "finished"
    queue_png = _out(tmp_path, "gui-queue.png")
    assert win.grab().save(str(queue_png), "PNG")
    assert queue_png.stat().st_size > 10000

    lab.inject("quench")
    win.dashboard.refresh()
    qtbot.waitUntil(lambda: not win.banner.isHidden(), timeout=5000)
    assert win.dashboard.labels["magnet"].text() == "QUENCH"
    alarm_png = _out(tmp_path, "gui-alarm.png")
    assert win.grab().save(str(alarm_png), "PNG")
    assert alarm_png.stat().st_size > 10000
