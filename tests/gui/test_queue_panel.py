"""Run-control buttons act only in the states where they act; the queue tracker follows the
engine's events (status, progress, elapsed and remaining time per step and for the queue)."""

import pytest
from PyQt6 import QtCore

from pcsdaq.errors import PcsdaqError
from pcsdaq.gui.queue_model import QueueTracker, step_summary
from pcsdaq.gui.queue_panel import BUTTON_STATES, RunControls
from pcsdaq.runner.plan import PlanStep


class FakeEngine:
    def __init__(self):
        self.calls = []
        self.state = "idle"

    def start(self):
        self.calls.append("start")
        if self.state == "running":
            raise PcsdaqError("the engine is already running")

    def pause(self):
        self.calls.append("pause")

    def resume(self):
        self.calls.append("resume")

    def abort(self, reason):
        self.calls.append(("abort", reason))


def enabled(panel):
    return {n for n, b in panel.buttons.items() if b.isEnabled()}


def test_buttons_call_engine_in_their_states(qtbot):
    eng = FakeEngine()
    panel = RunControls(eng)
    qtbot.addWidget(panel)
    for state, name in (("idle", "start"), ("running", "pause"), ("paused", "resume"),
                        ("paused", "abort")):
        panel.set_state(state)
        qtbot.mouseClick(panel.buttons[name], QtCore.Qt.MouseButton.LeftButton)
    assert eng.calls[:3] == ["start", "pause", "resume"]
    assert eng.calls[3][0] == "abort"


@pytest.mark.parametrize("state, expected", [
    ("idle", {"start"}), ("running", {"pause", "abort"}), ("paused", {"resume", "abort"}),
    ("finished", {"start"}), ("failed", {"start"}), ("aborted", {"start"}),
    ("starting", set())])
def test_buttons_enabled_only_where_they_act(qtbot, state, expected):
    panel = RunControls(FakeEngine())
    qtbot.addWidget(panel)
    panel.set_state(state)
    assert enabled(panel) == expected
    assert set(BUTTON_STATES) == set(panel.buttons)


def test_clicking_pause_when_idle_does_nothing(qtbot):
    eng = FakeEngine()
    panel = RunControls(eng)
    qtbot.addWidget(panel)
    qtbot.mouseClick(panel.buttons["pause"], QtCore.Qt.MouseButton.LeftButton)
    assert eng.calls == []


def test_start_refused_is_a_message_not_a_traceback(qtbot):
    eng = FakeEngine()
    eng.state = "running"
    panel = RunControls(eng)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.message) as sig:
        panel._command("start")  # as a click racing the engine's own state change
    assert "already running" in sig.args[0]
    assert enabled(panel) == {"pause", "abort"}


def test_disabled_without_engine(qtbot):
    panel = RunControls(None)
    qtbot.addWidget(panel)
    assert not any(b.isEnabled() for b in panel.buttons.values())


def test_tracker_follows_a_run():
    t = QueueTracker()
    t.resize(3, [100.0, 50.0, 20.0])
    assert t.queue_remaining_s(0.0) == 170.0
    t.on_event({"type": "status", "state": "running"}, 0.0)
    t.on_event({"type": "run_started", "step": 0}, 0.0)
    t.on_event({"type": "progress", "step": 0, "fraction": 0.5, "eta_s": 40.0,
                "overall_fraction": 0.3, "overall_eta_s": 120.0}, 40.0)
    assert t.status == ["running", "queued", "queued"]
    assert t.elapsed_s(0, 50.0) == 50.0
    assert t.remaining_s(0, 50.0) == 30.0
    assert t.queue_remaining_s(50.0) == 110.0
    t.on_event({"type": "status", "state": "paused"}, 60.0)
    assert t.status[0] == "paused"
    assert t.remaining_s(0, 65.0) == 40.0  # the ETA does not run down while paused
    t.on_event({"type": "status", "state": "running"}, 70.0)
    t.on_event({"type": "step_finished", "step": 0, "status": "finished"}, 80.0)
    t.on_event({"type": "run_started", "step": 1}, 80.0)
    t.on_event({"type": "step_finished", "step": 1, "status": "failed"}, 90.0)
    t.on_event({"type": "status", "state": "failed", "reason": "x"}, 90.0)
    assert t.status == ["finished", "failed", "queued"]
    assert t.elapsed_s(0, 1000.0) == 80.0 and t.remaining_s(0, 1000.0) is None
    assert t.queue_remaining_s(100.0) == 20.0
    t.on_event({"type": "status", "state": "running"}, 200.0)  # a new run: all queued again
    assert t.status == ["queued"] * 3


def test_step_summary_shows_what_matters():
    text = step_summary(PlanStep("temperature_series", {"setpoints_K": [2.0, 5.0, 8.0],
                                                        "max_current_A": 5e-4,
                                                        "n_points": 151}))
    assert text.startswith("T 2, 5, 8 K") and "I ± 0.5 mA" in text and "151 pts" in text
    text = step_summary(PlanStep("bias_sweep", {"max_bias_mV": 10}))
    assert "bias ± 10 mV" in text and "mA" not in text
