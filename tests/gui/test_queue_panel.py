"""Run-control buttons send commands to the engine."""

from PyQt6 import QtCore

from pcsdaq.gui.queue_panel import RunControls


class FakeEngine:
    def __init__(self):
        self.calls = []

    def start(self):
        self.calls.append("start")

    def pause(self):
        self.calls.append("pause")

    def resume(self):
        self.calls.append("resume")

    def abort(self, reason):
        self.calls.append(("abort", reason))


def test_buttons_call_engine(qtbot):
    eng = FakeEngine()
    panel = RunControls(eng)
    qtbot.addWidget(panel)
    for name in ("start", "pause", "resume", "abort"):
        qtbot.mouseClick(panel.buttons[name], QtCore.Qt.MouseButton.LeftButton)
    assert eng.calls[:3] == ["start", "pause", "resume"]
    assert eng.calls[3][0] == "abort"


def test_disabled_without_engine(qtbot):
    panel = RunControls(None)
    qtbot.addWidget(panel)
    assert not any(b.isEnabled() for b in panel.buttons.values())
