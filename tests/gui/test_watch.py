"""Watching a headless run: the GUI follows the files another process (`pcsdaq run` on the
simulated lab) writes, with no station opened; `pcsdaq gui --watch DIR` starts offscreen."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from pcsdaq.storage import RunWriter

RUN = [sys.executable, "-c", "import sys; from pcsdaq.cli import main; sys.exit(main())"]


def _env():
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def start_run(repo_root, data):
    """`pcsdaq run configs/plan-demo.yaml` on the in-process simulated lab, in another
    process (approach, R(T), a temperature and a field series)."""
    return subprocess.Popen([*RUN, "run", str(repo_root / "configs" / "plan-demo.yaml"),
                             "--sim", "inprocess", "--time-scale", "0", "--data", str(data)],
                            cwd=repo_root, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _points(win) -> int:
    p = win.plots
    return (sum(t.g.n for t in p.didv.traces.values()) + sum(b.n for b in p.rt.buffers.values())
            + sum(b.n for b in p.approach.buffers.values()))


def test_watched_folder_grows_while_another_process_writes(window, qtbot, repo_root,
                                                            tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    proc = start_run(repo_root, data)
    try:
        window.watch_folder(str(data))
        seen_while_writing = []

        def grows():
            n = _points(window)
            if proc.poll() is None and n:
                seen_while_writing.append(n)
            return len(set(seen_while_writing)) >= 3

        qtbot.waitUntil(grows, timeout=60000)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    panel = window.watch_panel
    qtbot.waitUntil(lambda: [panel.status_of(i) for i in range(4)] == ["finished"] * 4,
                    timeout=20000)
    assert sorted(set(seen_while_writing)) == seen_while_writing[:1] + sorted(
        set(seen_while_writing))[1:]  # only ever grew
    # the same plots as a live run: spectra (5, fitted, none from the approach or R(T)),
    # R(T) with its Tc, R vs piezo steps
    spectra = window.plots.didv
    # every point of every spectrum on screen: the steps' "finished" comes from the run's
    # log, the last rows from the file's next read (a poll later on a loaded machine)
    qtbot.waitUntil(lambda: len(spectra.traces) == 5
                    and all(t.g.n == 151 for t in spectra.traces.values()), timeout=10000)
    qtbot.waitUntil(lambda: all(t.fit is not None for t in spectra.traces.values()),
                    timeout=60000)
    assert all(t.fit["verdict"] in ("good", "degenerate") for t in spectra.traces.values())
    qtbot.waitUntil(lambda: len(window.plots.rt.tc) == 1, timeout=10000)
    assert sum(b.n for b in window.plots.approach.buffers.values()) > 10
    qtbot.waitUntil(lambda: "finished" in window.status_label.text(), timeout=5000)
    assert window.engine is None  # no station was opened
    save_screenshots(window, qtbot, tmp_path)


def save_screenshots(window, qtbot, tmp_path):
    """The README's pictures, from this real simulated run: the normalised spectra with
    their fits, and the watched run (R(T) with its Tc, the queue). Written to docs/ with
    PCSDAQ_UPDATE_SCREENSHOT=1, else to tmp_path."""
    docs = Path(__file__).resolve().parents[2] / "docs"
    out = docs if os.environ.get("PCSDAQ_UPDATE_SCREENSHOT") == "1" else tmp_path
    window.resize(1280, 820)
    window.show()
    qtbot.waitExposed(window)
    spectra = window.plots.didv
    spectra.view.setCurrentText("G/G_N")
    spectra.offset.setValue(0.35)
    window.tabs.setCurrentWidget(spectra)
    spectra.resize(1000, 680)
    qtbot.wait(200)
    assert spectra.grab().save(str(out / "gui-spectrum-fit.png"), "PNG")
    window.tabs.setCurrentWidget(window.plots.rt)
    qtbot.wait(200)
    assert window.grab().save(str(out / "gui-watch.png"), "PNG")
    assert (out / "gui-watch.png").stat().st_size > 10000


def test_a_failed_run_and_flagged_points_raise_alarms(window, qtbot, tmp_path):
    path = tmp_path / "20260101-000000_step01_bias_sweep.h5"
    writer = RunWriter(path, procedure="bias_sweep",
                       columns={"time_s": "s", "V_dc_V": "V", "dIdV_S": "S",
                                "temperature_K": "K", "flags": ""})
    writer.begin_segment("sweep", temperature_K=2.0)
    for k, v in enumerate(np.linspace(-1e-3, 1e-3, 20)):
        writer.append({"time_s": float(k), "V_dc_V": v, "dIdV_S": 0.02,
                       "temperature_K": 2.0, "flags": 4.0 if k == 7 else 0.0})
    window.watch_folder(str(tmp_path))
    qtbot.waitUntil(lambda: window.plots.didv.point_count("1:sweep (2.00 K)") == 20,
                    timeout=10000)
    writer.close("failed", "quench (hard stop): magnet quench")
    panel = window.watch_panel
    qtbot.waitUntil(lambda: panel.status_of(0) == "failed", timeout=10000)
    alarms = [panel.alarms.item(i).text() for i in range(panel.alarms.count())]
    assert any("lock-in overload" in a for a in alarms)
    assert any("quench" in a for a in alarms)
    qtbot.waitUntil(lambda: "failed" in window.status_label.text(), timeout=5000)
    assert "quench" in window.log.toPlainText()


def test_gui_watch_starts_offscreen_while_a_run_writes(repo_root, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    run = start_run(repo_root, data)
    try:
        time.sleep(1.0)
        gui = subprocess.run([*RUN, "gui", "--watch", str(data), "--quit-after", "8"],
                             cwd=repo_root, env=_env(), capture_output=True, text=True,
                             timeout=120)
        _, run_err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert gui.returncode == 0, gui.stderr
    assert "Traceback" not in gui.stderr and "Traceback" not in run_err, gui.stderr
    assert run.returncode == 0


def test_gui_watch_refuses_a_missing_folder(repo_root, tmp_path):
    gui = subprocess.run([*RUN, "gui", "--watch", str(tmp_path / "nope")], cwd=repo_root,
                         env=_env(), capture_output=True, text=True, timeout=60)
    assert gui.returncode == 2 and "no such folder" in gui.stderr
    assert "Traceback" not in gui.stderr
