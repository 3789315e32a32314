"""Alarms, the queue table during a run and the forms, on the in-process simulated lab:
a quench shows the banner until acknowledged, a lost connection greys the dashboard, the
running step is highlighted and follows the run, buttons follow the engine's state, the
form highlights the bad field, each log line once with its time."""

import re
import time

import pytest
from PyQt6 import QtCore, QtGui, QtWidgets

from pcsdaq.gui.alarms import alarm_from_event
from pcsdaq.gui.dashboard import STALE_STYLE, contact_text
from pcsdaq.gui.procedure_panel import BAD_FIELD_STYLE, ordered_specs
from pcsdaq.gui.queue_panel import RUNNING_ROW
from pcsdaq.procedures import PROCEDURES
from pcsdaq.runner.plan import PlanStep

SWEEP = {"max_current_A": 5e-4, "n_points": 81, "sensitivity_V": 1e-5}


@pytest.fixture
def window(sim_window):
    return sim_window


def read_dashboard(qtbot, win):
    before = dict(win.dashboard.updated)
    win.dashboard.refresh()
    qtbot.waitUntil(lambda: win.dashboard.updated != before and not win.dashboard._busy,
                    timeout=5000)


def test_quench_shows_a_banner_that_stays_until_acknowledged(window, qtbot):
    lab, _station, _engine, win = window
    read_dashboard(qtbot, win)
    assert win.banner.isHidden()
    assert win.dashboard.labels["magnet"].text() != "QUENCH"
    lab.inject("quench")
    read_dashboard(qtbot, win)
    assert not win.banner.isHidden()
    assert win.banner.kinds() == ["quench"]
    assert "Magnet QUENCH" in win.banner.label.text()
    assert win.dashboard.labels["magnet"].text() == "QUENCH"
    assert "b00020" in win.dashboard.labels["magnet"].styleSheet()
    read_dashboard(qtbot, win)  # still quenched: the banner stays, no second alarm
    assert win.banner.kinds() == ["quench"]
    assert [line for line in win.log.lines() if "QUENCH" in line].__len__() == 1
    qtbot.mouseClick(win.banner.button, QtCore.Qt.MouseButton.LeftButton)
    assert win.banner.isHidden()


def test_lost_connection_greys_the_dashboard(window, qtbot):
    lab, _station, _engine, win = window
    read_dashboard(qtbot, win)
    assert not win.dashboard.is_stale("contact")
    lab.inject("drop", target="sr830")
    read_dashboard(qtbot, win)
    for key in ("contact", "overload", "diameter"):
        assert win.dashboard.is_stale(key), key
    assert not win.dashboard.is_stale("temperature")
    assert "connection" in win.banner.kinds()
    assert "lockin: " in win.dashboard.connections.text()
    assert "b00020" in win.dashboard.connections.text()  # the lost role in red


def test_values_not_refreshed_are_greyed_out(window, qtbot):
    _lab, _station, _engine, win = window
    read_dashboard(qtbot, win)
    assert win.dashboard.mark_stale() == []
    stale = win.dashboard.mark_stale(time.monotonic() + 2 * win.dashboard.stale_after_s)
    assert "temperature" in stale and "magnet" in stale
    assert win.dashboard.labels["temperature"].styleSheet() == STALE_STYLE


def test_open_contact_reads_open():
    assert contact_text(1.3e12) == "open"
    assert contact_text(float("inf")) == "open"
    assert contact_text(12.5) == "12.5 Ohm"


def test_run_failed_and_quench_alarms_from_engine_events():
    quench = alarm_from_event({"type": "status", "state": "failed",
                               "reason": "quench (hard stop): AMI430: quench reported"})
    assert quench is not None and quench.kind == "quench"
    failed = alarm_from_event({"type": "status", "state": "failed", "reason": "refused: x"})
    assert failed is not None and failed.kind == "run_failed"
    assert alarm_from_event({"type": "status", "state": "finished"}) is None


def row_background(win, row):
    item = win.queue.table.item(row, 1)
    return item.background().color().name() if item.background().style() != \
        QtCore.Qt.BrushStyle.NoBrush else None


def enabled(win):
    return {n for n, b in win.controls.buttons.items() if b.isEnabled()}


def test_running_step_is_highlighted_and_follows_the_run(window, qtbot):
    _lab, _station, engine, win = window
    engine.enqueue(PlanStep("bias_sweep", dict(SWEEP, n_points=100000)))
    engine.enqueue(PlanStep("bias_sweep", SWEEP))
    engine.enqueue(PlanStep("bias_sweep", dict(SWEEP, n_points=11)))
    win.queue.refresh()
    assert enabled(win) == {"start"}
    assert win.queue.table.item(0, 5).text() != "-"  # an estimated duration
    qtbot.mouseClick(win.controls.buttons["start"], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.queue.tracker.fraction[0] > 0, timeout=20000)
    assert win.queue.table.item(0, 3).text() == "running"
    assert win.queue.table.item(1, 3).text() == "queued"
    assert row_background(win, 0) == QtGui.QColor(RUNNING_ROW).name()
    assert row_background(win, 1) is None
    assert win.queue.table.item(0, 4).text().endswith("%")
    assert "expected end" in win.queue.summary.text()
    assert enabled(win) == {"pause", "abort"}
    # the running step cannot move, be edited or removed; the queued ones can
    win.queue.select_row(1)
    win.queue.move_up()
    assert engine.queue[1].parameters["n_points"] == 81
    assert not win.queue.edit_step(0, "{n_points: 5}")
    win.queue.select_row(2)
    win.queue.move_up()
    assert engine.queue[1].parameters["n_points"] == 11
    assert win.queue.edit_step(2, "{n_points: 21}")
    assert engine.queue[2].parameters["n_points"] == 21
    assert not win.queue.edit_step(2, "{n_points: 0.5}")  # refused, unchanged
    assert engine.queue[2].parameters["n_points"] == 21
    qtbot.mouseClick(win.controls.buttons["pause"], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.queue.table.item(0, 3).text() == "paused", timeout=5000)
    assert enabled(win) == {"resume", "abort"}
    qtbot.mouseClick(win.controls.buttons["resume"], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: enabled(win) == {"pause", "abort"}, timeout=5000)
    before = win.queue.tracker.fraction[0]
    qtbot.waitUntil(lambda: win.queue.tracker.fraction[0] > before, timeout=20000)
    qtbot.mouseClick(win.controls.buttons["abort"], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.queue.table.item(0, 3).text() == "aborted", timeout=20000)
    qtbot.waitUntil(lambda: enabled(win) == {"start"}, timeout=5000)
    assert row_background(win, 0) is None
    assert win.queue.table.item(1, 3).text() == "queued"


def test_form_in_declaration_order_grouped_with_choices_and_bad_field(window, qtbot):
    _lab, _station, _engine, win = window
    panel = win.procedures
    panel.select("bias_sweep")
    keys = list(ordered_specs(PROCEDURES["bias_sweep"]))
    assert keys[:2] == ["max_current_A", "max_bias_mV"]  # as declared, not alphabetical
    assert isinstance(panel.edits["direction"], QtWidgets.QComboBox)
    assert isinstance(panel.edits["filter_slope_db"], QtWidgets.QComboBox)
    assert panel.field_labels["max_current_A"].text() == "Maximum |bias current| (A)"
    assert "allowed: 1e-09 to 0.1 A" in panel.edits["max_current_A"].toolTip()
    groups = [b.title() for b in panel.form_scroll.widget().findChildren(QtWidgets.QGroupBox)]
    assert groups == ["Bias", "Excitation", "Timing"]
    panel.set_value("direction", "both")
    assert panel.values() == {"direction": "both"}
    panel.set_value("max_current_A", 0.05)  # above the station's 10 mA bias limit
    assert panel.edits["max_current_A"].styleSheet() == BAD_FIELD_STYLE
    assert "0.01 A" in panel.edits["max_current_A"].toolTip()
    assert panel.edits["n_points"].styleSheet() == ""
    panel.set_value("n_points", 2)  # below its own range: both fields marked
    assert panel.edits["n_points"].styleSheet() == BAD_FIELD_STYLE
    assert "allowed 3 to 100001" in panel.edits["n_points"].toolTip()
    assert not panel.add_button.isEnabled()
    panel.set_value("max_current_A", 1e-3)
    panel.set_value("n_points", 11)
    assert panel.edits["max_current_A"].styleSheet() == ""
    assert panel.add_button.isEnabled()
    panel.set_value("max_bias_mV", 5)
    panel.set_value("dense_bias_mV", 10)  # the station check names both: the first is bad
    assert panel.edits["dense_bias_mV"].styleSheet() == BAD_FIELD_STYLE
    assert panel.edits["max_bias_mV"].styleSheet() == ""


def test_each_log_line_once_with_its_time_and_a_level_filter(window, qtbot):
    _lab, _station, engine, win = window
    engine.log("something broke", "error")
    engine.log("all fine", "info")
    qtbot.waitUntil(lambda: any("all fine" in line for line in win.log.lines()), timeout=2000)
    qtbot.wait(50)
    broke = [line for line in win.log.lines() if "something broke" in line]
    assert len(broke) == 1
    assert re.match(r"^\d\d:\d\d:\d\d ERROR +something broke$", broke[0])
    win.log.level.setCurrentText("error")
    assert not any("all fine" in line for line in win.log.lines())
    assert any("something broke" in line for line in win.log.lines())


def test_overload_heater_and_thermometer_alarms_in_red_where_the_value_is(window, qtbot):
    lab, _station, _engine, win = window
    for fault in ("overload", "heater_open", "thermometer_invalid"):
        lab.inject(fault)
    read_dashboard(qtbot, win)
    labels = win.dashboard.labels
    assert labels["overload"].text() == "OVERLOAD"
    assert labels["heater"].text() == "heater open"
    assert labels["temperature"].text() == "invalid"
    for key in ("overload", "heater", "temperature"):
        assert "b00020" in labels[key].styleSheet(), key
    assert set(win.banner.kinds()) == {"overload", "heater", "thermometer"}
    lab.clear_faults()
    read_dashboard(qtbot, win)
    assert labels["overload"].text() == "no"
    assert labels["overload"].styleSheet() == ""
    assert set(win.banner.kinds()) == {"overload", "heater", "thermometer"}  # until ack


def test_a_quench_during_a_field_series_fails_the_run_with_a_quench_alarm(window, qtbot):
    lab, _station, engine, win = window
    engine.enqueue(PlanStep("field_series", dict(SWEEP, fields_T=[0.0, 0.2, 0.4],
                                                 keep_temperature=True)))
    win.queue.refresh()
    qtbot.mouseClick(win.controls.buttons["start"], QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(b.n > 5 for b in win.plots.didv.buffers.values()),
                    timeout=30000)
    lab.inject("quench")
    qtbot.waitUntil(lambda: win.queue.table.item(0, 3).text() == "failed", timeout=30000)
    qtbot.waitUntil(lambda: "quench" in win.banner.kinds(), timeout=5000)
    assert win.status_label.text().startswith("failed")
    assert {n for n, b in win.controls.buttons.items() if b.isEnabled()} == {"start"}
    failed = [line for line in win.log.lines() if "failed: quench" in line]
    assert len(failed) == 1, win.log.lines()


def test_log_panel_takes_plain_lines_as_the_former_log_did(qtbot):
    from pcsdaq.gui.alarms import LogPanel

    panel = LogPanel()
    qtbot.addWidget(panel)
    panel.appendPlainText("[warning] heater range lowered")
    panel.appendPlainText("[last run] magnet left at 0.5 T")
    lines = panel.lines()
    assert re.match(r"^\d\d:\d\d:\d\d WARNING +heater range lowered$", lines[0])
    assert re.match(r"^\d\d:\d\d:\d\d INFO +\[last run\] magnet left at 0.5 T$", lines[1])
