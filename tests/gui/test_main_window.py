"""The GUI on the in-process simulated lab: forms, queue, runs from the GUI, abort, safe
state, dashboard, data browser, settings, screenshot."""

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PyQt6 import QtCore

from pcsdaq.gui.app import main
from pcsdaq.gui.main_window import MainWindow
from pcsdaq.runner.engine import RunEngine
from pcsdaq.runner.plan import PlanStep

SWEEP = {"max_current_A": 5e-4, "n_points": 81, "sensitivity_V": 1e-5}


@pytest.fixture
def settings(tmp_path):
    return QtCore.QSettings(str(tmp_path / "gui.ini"), QtCore.QSettings.Format.IniFormat)


@pytest.fixture
def window(sim_window):
    return sim_window


def click(qtbot, button):
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)


def test_events_from_worker_thread_reach_plot(qtbot, settings):
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)

    def worker():
        win.bridge.post({"type": "segment", "name": "sweep", "step": 0,
                         "attrs": {"temperature_K": 4.2}})
        for v in np.linspace(-2e-3, 2e-3, 40):
            win.bridge.post({"type": "point", "step": 0,
                             "row": {"V_dc_V": v, "dIdV_S": 1.0, "temperature_K": 4.2}})
        win.bridge.post({"type": "status", "state": "finished", "reason": ""})

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: win.status_label.text() == "finished", timeout=2000)
    assert win.plots.didv.point_count("1:sweep (4.20 K)") == 40


def test_sweep_started_from_the_gui_reaches_the_plot(window, qtbot):
    lab, _station, engine, win = window
    win.procedures.select("bias_sweep")
    for key, value in SWEEP.items():
        win.procedures.set_value(key, value)
    assert win.procedures.add_button.isEnabled(), win.procedures.message.text()
    click(qtbot, win.procedures.add_button)
    assert [s.procedure for s in engine.queue] == ["bias_sweep"]
    click(qtbot, win.controls.buttons["start"])
    qtbot.waitUntil(lambda: win.status_label.text() == "finished", timeout=20000)
    key = next(iter(win.plots.didv.curves))
    assert win.plots.didv.point_count(key) == 81
    assert lab.emulators["sr830"].aux_out[0] == 0.0


def test_bad_parameter_cannot_be_queued_and_says_the_range(window, qtbot):
    _lab, _station, engine, win = window
    win.procedures.select("bias_sweep")
    win.procedures.set_value("max_current_A", 0.05)  # above the station's 10 mA bias limit
    assert not win.procedures.add_button.isEnabled()
    assert "allowed |value| <= 0.01 A" in win.procedures.message.text()
    win.procedures.set_value("max_current_A", 5)  # above the parameter's own range
    assert "allowed 1e-09 to 0.1 A" in win.procedures.message.text()
    win.procedures.set_value("max_current_A", 1e-3)
    assert win.procedures.add_button.isEnabled()
    assert engine.queue == []


def test_abort_from_the_gui_leaves_the_instruments_safe(window, qtbot):
    lab, station, engine, win = window
    station.thermometer.set_heater_range(4)
    engine.enqueue(PlanStep("bias_sweep", dict(SWEEP, n_points=100000)))
    win.queue.refresh()
    click(qtbot, win.controls.buttons["start"])
    qtbot.waitUntil(lambda: any(b.n > 20 for b in win.plots.didv.buffers.values()),
                    timeout=20000)
    click(qtbot, win.controls.buttons["abort"])
    qtbot.waitUntil(lambda: win.status_label.text().startswith("aborted"), timeout=20000)
    assert "aborted from the GUI" in win.status_label.text()
    assert lab.emulators["sr830"].aux_out[0] == 0.0
    assert lab.cryostat.heater_range == 0


def test_queue_reorder_remove_and_plan_round_trip(window, qtbot, tmp_path):
    _lab, _station, engine, win = window
    engine.enqueue(PlanStep("bias_sweep", {"n_points": 11}))
    engine.enqueue(PlanStep("needle_approach", {}))
    win.queue.refresh()
    win.queue.select_row(1)
    win.queue.move_up()
    assert [s.procedure for s in engine.queue] == ["needle_approach", "bias_sweep"]
    engine.save_plan(tmp_path / "q.yaml")
    win.queue.remove_selected()
    assert [s.procedure for s in engine.queue] == ["bias_sweep"]
    win.queue.load_plan(str(tmp_path / "q.yaml"))
    assert [s.procedure for s in engine.queue] == ["needle_approach", "bias_sweep"]
    assert win.queue.table.rowCount() == 2


def test_temperature_series_end_to_end_and_data_browser_fit(window, qtbot):
    lab, _station, engine, win = window
    engine.enqueue(PlanStep("temperature_series", dict(SWEEP, setpoints_K=[2.0, 6.0],
                                                       window_s=10.0)))
    click(qtbot, win.controls.buttons["start"])
    qtbot.waitUntil(lambda: win.status_label.text() == "finished", timeout=60000)
    assert len(win.plots.didv.curves) == 2
    with qtbot.waitSignal(win.browser.opened, timeout=10000):
        win.browser.open_runs([str(p) for p in engine.files])
    assert win.browser.list.count() == 2
    win.browser.list.setCurrentRow(0)
    with qtbot.waitSignal(win.browser.fitted, timeout=30000) as fitted:
        assert win.browser.fit_selected()
    assert fitted.args[0]["delta_meV"] == pytest.approx(lab.contact.gap_now_meV(), rel=0.1)
    # the live plot fitted each finished spectrum too (off the GUI thread)
    qtbot.waitUntil(lambda: all(t.fit_curve is not None
                                for t in win.plots.didv.traces.values()), timeout=30000)


def test_dashboard_reads_off_the_gui_thread(window, qtbot):
    _lab, _station, _engine, win = window
    win.dashboard.refresh()
    qtbot.waitUntil(lambda: win.dashboard.labels["temperature"].text().endswith(" K"),
                    timeout=5000)
    assert "thermometer: ok" in win.dashboard.connections.text()
    assert win.dashboard.labels["contact"].text().endswith("Ohm")


def test_settings_remember_the_geometry(sim_station, tmp_path, qtbot, settings):
    _lab, station = sim_station
    win = MainWindow(RunEngine(station, tmp_path), settings=settings)
    qtbot.addWidget(win)
    win.resize(1234, 777)
    win.close()
    again = MainWindow(RunEngine(station, tmp_path), settings=settings)
    qtbot.addWidget(again)
    assert (again.size().width(), again.size().height()) == (1234, 777)
    again.queue._remember(str(tmp_path / "plans" / "night.yaml"))
    again.on_event({"type": "run_started", "step": 0, "procedure": "bias_sweep",
                    "path": str(tmp_path / "runs" / "a.h5")})
    third = MainWindow(RunEngine(station, tmp_path), settings=settings)
    qtbot.addWidget(third)
    assert third.queue._last_dir() == str(tmp_path / "plans")
    assert third.settings.value("last_run_dir") == str(tmp_path / "runs")


def test_screenshot_of_a_real_simulated_series(sim_station, qtbot, tmp_path, settings,
                                               monkeypatch):
    """A temperature series with the engine's live fit on, paused while a later spectrum
    is measured: the finished spectra with their fits, the live fit's curve over the one
    being measured, Delta +- error in the label. Saves a screenshot;
    PCSDAQ_UPDATE_SCREENSHOT=1 writes it to docs/ for the README."""
    from pcsdaq.runner import live_fit

    monkeypatch.setattr(live_fit, "WORKER_NICE", 0)  # a busy machine would starve it
    lab, station = sim_station
    lab.contact.place()
    engine = RunEngine(station, tmp_path / "data", live_fit=True)  # the suite's switch is off
    win = MainWindow(engine, settings=settings)
    win.dashboard.timer.stop()
    qtbot.addWidget(win)
    win.resize(1280, 820)
    win.show()
    engine.enqueue(PlanStep("temperature_series", dict(SWEEP, setpoints_K=[2.0, 5.0, 8.0],
                                                       n_points=301, window_s=10.0)))
    # a real sweep takes minutes; the simulated one (no waits) would be over before the live
    # fit's worker has started on a busy machine: 20 ms per point, as a fast lock-in
    engine.subscribe(lambda ev: time.sleep(0.02) if ev["type"] == "point" else None)
    spectra = win.plots.didv

    def live_curve_on_a_spectrum_being_measured():
        keys = list(spectra.traces)
        if len(keys) < 2 or spectra.traces[keys[-1]].finished:
            return False
        st = spectra.live.states.get(keys[-1])  # a good fit of most of a half sweep
        return st is not None and st.item is not None and st.fit["verdict"] == "good" \
            and st.fit["n_points"] >= 120

    try:
        click(qtbot, win.controls.buttons["start"])
        qtbot.waitUntil(live_curve_on_a_spectrum_being_measured, timeout=120000)
        click(qtbot, win.controls.buttons["pause"])
        qtbot.waitUntil(lambda: win.status_label.text().startswith("paused"), timeout=20000)
        win.plots.refresh()
        win.dashboard.refresh()
        qtbot.waitUntil(lambda: win.dashboard.labels["temperature"].text() != "-",
                        timeout=5000)
        qtbot.waitUntil(lambda: all(t.fit is not None for t in
                                    list(spectra.traces.values())[:-1]), timeout=60000)
        key = list(spectra.traces)[-1]
        assert spectra.live.label.text().startswith(key) and "\u00b1" in \
            spectra.live.label.text()
        assert spectra.traces[key].fit is None and spectra.live.item(key) is not None
        qtbot.waitExposed(win)
        win.plots.refresh()
        out = tmp_path / "gui-screenshot.png"
        if os.environ.get("PCSDAQ_UPDATE_SCREENSHOT") == "1":
            out = Path(__file__).resolve().parents[2] / "docs" / "gui-screenshot.png"
        assert win.grab().save(str(out), "PNG")
        assert out.stat().st_size > 10000
    finally:
        engine.abort("test over")
        engine.wait(30)


def test_cli_help_exits_cleanly():
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0


def test_gui_opens_on_the_simulated_lab_by_default(tmp_path, qtbot, settings):
    from pcsdaq.gui.app import build_engine

    engine, lab, server = build_engine(None, False, str(tmp_path), time_scale=0)
    try:
        assert lab is not None and server is None
        win = MainWindow(engine, settings=settings)
        qtbot.addWidget(win)
        win.dashboard.refresh()
        qtbot.waitUntil(lambda: "lockin: ok" in win.dashboard.connections.text(), timeout=5000)
    finally:
        engine.station.close()


def test_settle_heap_takes_the_built_window_out_of_the_garbage_collectors_passes():
    import gc

    from pcsdaq.gui.app import settle_heap

    try:
        settle_heap()
        assert gc.get_freeze_count() > 1000  # the modules, widgets and plots built so far
    finally:
        gc.unfreeze()
