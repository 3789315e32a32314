"""The live fit while a spectrum is measured: a live_fit event (from the engine, or a row of
a watched run's /entry/analysis/live) shows its curve over the spectrum and Delta +- error,
Z, Gamma in the label and the legend; a newer event replaces them."""

import numpy as np
import pytest

from pcsdaq.physics import andreev
from pcsdaq.runner.live_fit import LIVE_COLUMNS, LIVE_TABLE
from pcsdaq.storage import RunWriter

TRUTH = (1.5, 0.6, 0.08, 0.0)  # Delta meV, Z, Gamma meV, P


def _fit_event(delta, n_points, n_acquired, **extra):
    return {"type": "live_fit", "step": 0, "segment_name": "sweep", "segment": 0,
            "n_points": n_points, "n_acquired": n_acquired, "delta_meV": delta,
            "delta_err_meV": 0.012, "Z": 0.6, "Z_err": 0.01, "gamma_meV": 0.08,
            "gamma_err_meV": 0.004, "P": 0.0, "chi2_red": 1.1, "verdict": "good",
            "model": "btk", "temperature_K": 2.0, "scale": 1.0, "offset_mV": 0.0, **extra}


def _spectrum(n=201):
    v = np.linspace(-8e-3, 8e-3, n)
    return v, 0.04 * andreev.conductance(v * 1e3, "btk", TRUTH, 2.0)


def test_a_live_fit_event_draws_its_curve_and_delta_with_error(window, qtbot):
    v, g = _spectrum()
    window.on_event({"type": "segment", "step": 0, "name": "sweep",
                     "attrs": {"temperature_K": 2.0}})
    key = window.segment
    for vi, gi in zip(v[:150], g[:150], strict=True):  # three quarters measured
        window.on_event({"type": "point", "step": 0,
                         "row": {"V_dc_V": vi, "dIdV_S": gi, "temperature_K": 2.0}})
    spectra = window.plots.didv
    window.on_event(_fit_event(1.5, 140, 150))
    assert "\u0394=1.500\u00b10.012 meV" in spectra.live.label.text()
    assert "Z=0.60" in spectra.live.label.text() and "140 of 150 points" in \
        spectra.live.label.text()
    qtbot.waitUntil(lambda: spectra.live.item(key) is not None, timeout=30000)
    item = spectra.live.item(key)
    x, y = item.getOriginalDataset()
    assert x.min() == pytest.approx(v[0]) and x.max() == pytest.approx(v[149])
    # the curve lies on the measured points (raw dI/dV view, S)
    np.testing.assert_allclose(y, np.interp(x, v, g), rtol=0.02)
    assert "\u0394=1.500" in spectra.plot.legend.getLabel(item).text
    spectra.view.setCurrentText("G/G_N")  # redrawn in the new view
    assert abs(np.nanmax(item.getOriginalDataset()[1]) - g.max() / g[0]) < 0.05

    window.on_event(_fit_event(1.62, 150, 160))  # a newer fit replaces label, legend, curve
    assert "\u0394=1.620" in spectra.live.label.text()
    qtbot.waitUntil(lambda: spectra.live.states[key].shown == 2, timeout=30000)
    assert "\u0394=1.620" in spectra.plot.legend.getLabel(item).text
    assert spectra.live.item(key) is item and not np.allclose(item.getOriginalDataset()[1], y)


def test_the_engine_s_curve_is_drawn_at_once(window):
    from pcsdaq.runner.live_fit import fit_snapshot

    v, g = _spectrum()
    window.on_event({"type": "segment", "step": 0, "name": "sweep",
                     "attrs": {"temperature_K": 2.0}})
    window.on_event({"type": "rows", "segment": window.segment,
                     "columns": {"V_dc_V": v[:120], "dIdV_S": g[:120]}})
    fit = fit_snapshot(v[:120], g[:120], 2.0, {})  # as the engine's worker sends it
    assert len(fit["curve_bias_V"]) == len(fit["curve_g"]) > 100
    window.on_event({**_fit_event(0.0, 110, 120), **fit})
    item = window.plots.didv.live.item(window.segment)
    x, y = item.getOriginalDataset()  # no wait for a worker
    assert x[0] == pytest.approx(v[0]) and x[-1] == pytest.approx(v[119])
    np.testing.assert_allclose(y, np.interp(x, v, g), rtol=0.02)


def test_the_finished_spectrum_fit_replaces_the_live_curve(window, qtbot):
    v, g = _spectrum()
    window.on_event({"type": "segment", "step": 0, "name": "sweep",
                     "attrs": {"temperature_K": 2.0}})
    key = window.segment
    for vi, gi in zip(v, g, strict=True):
        window.on_event({"type": "point", "step": 0,
                         "row": {"V_dc_V": vi, "dIdV_S": gi, "temperature_K": 2.0}})
    spectra = window.plots.didv
    window.on_event(_fit_event(1.5, 201, 201))
    qtbot.waitUntil(lambda: spectra.live.item(key) is not None, timeout=30000)
    with qtbot.waitSignal(spectra.fits.done, timeout=60000):
        window.on_event({"type": "step_finished", "step": 0, "status": "finished",
                         "points": 201, "path": "run.h5"})
    assert spectra.traces[key].fit is not None and spectra.live.item(key) is None
    assert "\u0394=1.500" in spectra.live.label.text()  # the last live fit stays readable


def test_an_event_for_a_spectrum_not_shown_is_ignored(window):
    assert window.plots.live_fit(_fit_event(1.5, 20, 20)) is False
    assert window.plots.didv.live.label.text() == ""


def test_a_watched_run_shows_its_live_fit_table(window, qtbot, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    v, g = _spectrum(121)
    w = RunWriter(folder / "20260101-000000_step01_bias_sweep.h5", procedure="bias_sweep",
                  columns={"V_dc_V": "V", "dIdV_S": "S", "temperature_K": "K"},
                  tables={LIVE_TABLE: LIVE_COLUMNS})
    w.begin_segment("sweep", temperature_K=2.0)
    for vi, gi in zip(v[:100], g[:100], strict=True):
        w.append({"V_dc_V": vi, "dIdV_S": gi, "temperature_K": 2.0})
    row = {k: val for k, val in _fit_event(1.49, 90, 100).items() if k in LIVE_COLUMNS}
    w.append_table(LIVE_TABLE, {**row, "time_s": 3.0, "fit_s": 0.1})
    try:
        window.watch_folder(str(folder))
        spectra = window.plots.didv
        qtbot.waitUntil(lambda: "\u0394=1.490" in spectra.live.label.text(), timeout=20000)
        key = "1:sweep (2.00 K)"
        assert spectra.live.label.text().startswith(key) and "90 of 100 points" in \
            spectra.live.label.text()
        qtbot.waitUntil(lambda: spectra.live.item(key) is not None, timeout=30000)
        w.append_table(LIVE_TABLE, {**row, "delta_meV": 1.51, "n_points": 100,
                                    "n_acquired": 100})
        qtbot.waitUntil(lambda: "\u0394=1.510" in spectra.live.label.text(), timeout=20000)
    finally:
        window.stop_watching()
        w.close("finished")
