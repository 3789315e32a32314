"""Main window: engine events from another thread reach the plots; screenshot."""

import threading
from pathlib import Path

import numpy as np
import pytest

from pcsdaq.gui.app import main
from pcsdaq.gui.main_window import MainWindow


def test_events_from_worker_thread_reach_plot(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)

    def worker():
        win.bridge.post({"type": "segment", "name": "4.2 K", "step": 0, "attrs": {}})
        for v in np.linspace(-2e-3, 2e-3, 40):
            win.bridge.post({"type": "point", "step": 0, "row": {"bias_V": v, "dIdV_S": 1.0}})
        win.bridge.post({"type": "status", "state": "finished", "reason": ""})

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: win.status_label.text() == "finished", timeout=2000)
    assert win.plots.didv.point_count("4.2 K") == 40


def test_screenshot(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1100, 750)
    v = np.linspace(-4e-3, 4e-3, 400)
    for temp, delta in ((0.5, 1.4e-3), (4.2, 1.2e-3), (7.0, 0.6e-3)):
        win.on_event({"type": "segment", "name": f"{temp} K"})
        g = 0.02 * (1 + 0.8 * np.exp(-((np.abs(v) - delta) / 3e-4) ** 2))
        for x, y in zip(v, g, strict=True):
            win.on_event({"type": "point", "row": {"bias_V": x, "dIdV_S": y}})
    win.on_event({"type": "log", "level": "INFO", "message": "demo spectra"})
    win.show()
    qtbot.waitExposed(win)
    out = Path(__file__).resolve().parents[2] / "docs" / "gui-screenshot.png"
    assert win.grab().save(str(out), "PNG")
    assert out.stat().st_size > 1000


def test_cli_help_exits_cleanly():
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
