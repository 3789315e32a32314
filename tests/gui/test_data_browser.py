"""The data browser opens text spectra as labs write them and run files, puts R(T) on R(T)
axes, and fits with the chosen model in the thread pool, drawing the fitted curve."""

import threading

import numpy as np
import pytest

from pcsdaq.gui.data_browser import DataBrowser
from pcsdaq.storage import RunWriter
from tests.analysis.realdata import realdata


@pytest.fixture
def browser(qtbot):
    widget = DataBrowser()
    qtbot.addWidget(widget)
    return widget


def open_and_wait(qtbot, browser, paths):
    with qtbot.waitSignal(browser.opened, timeout=10000):
        browser.open_runs([str(p) for p in paths])


def test_text_spectrum_fitted_with_spin_model_off_the_gui_thread(browser, qtbot):
    open_and_wait(qtbot, browser, [realdata("tp_t1.csv")])
    assert browser.list.count() == 1 and "mV" in browser.list.item(0).text()
    browser.list.setCurrentRow(0)
    browser.model.setCurrentText("spin")
    browser.temperature_K.setValue(1.66)
    with qtbot.waitSignal(browser.fitted, timeout=30000) as blocker:
        assert browser.fit_selected()
        assert browser.result.text() == "fitting..."  # returned before the fit was done
    fit = blocker.args[0]
    assert fit["model"] == "spin" and 0.2 < fit["P"] < 0.6 and fit["temperature_K"] == 1.66
    assert "good" in browser.result.text() or "degenerate" in browser.result.text()
    threads = browser.spectra.fits.threads
    assert threads and threading.main_thread().name not in threads
    # the fitted curve is drawn over the spectrum with its parameters in the legend
    trace = next(iter(browser.spectra.traces.values()))
    assert trace.fit_curve is not None
    x, y = trace.fit_curve.getOriginalDataset()
    assert np.isfinite(y).sum() > 20
    names = [label.text for _, label in browser.spectra.plot.legend.items]
    assert any("\u0394=" in n and "Z=" in n and "[" in n for n in names)


def test_unreadable_file_is_named(browser, qtbot, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes("V,G\n1,2\n".encode("utf-16"))
    open_and_wait(qtbot, browser, [bad])
    assert browser.list.count() == 0 and "UTF-16" in browser.result.text()


def _rt_run(path):
    t = np.linspace(12.0, 2.0, 200)
    r = 10.0 + 0.01 * t - 8.0 / (1.0 + np.exp((t - 7.0) / 0.2))
    with RunWriter(path, procedure="rt_log", columns={"temperature_K": "K", "R_Ohm": "Ohm"}) as w:
        w.begin_segment("RT00_0T", field_T=0.0)
        for ti, ri in zip(t, r, strict=True):
            w.append({"temperature_K": ti, "R_Ohm": ri})
    return path


def test_rt_run_opens_on_rt_axes_with_the_tc_construction(browser, qtbot, tmp_path):
    path = _rt_run(tmp_path / "rt.h5")
    open_and_wait(qtbot, browser, [path])
    assert browser.plots.currentWidget() is browser.rt
    assert not browser.spectra.traces  # never on the spectra's axes
    key = next(iter(browser.rt.curves))
    assert browser.rt.point_count(key) == 200
    qtbot.waitUntil(lambda: key in browser.rt.tc, timeout=10000)
    tc = browser.rt.tc[key]
    assert 6.5 < tc.tc_two_slope_K < 7.6 and len(browser.rt.tc_items[key]) == 3
