"""Incremental plot updates add exactly the new points."""

import threading

import numpy as np
import pytest

from pcsdaq.gui.live_plots import GrowingXY, LivePlot, LivePlots


def test_growing_buffer_keeps_all_points_across_growth():
    buf = GrowingXY(capacity=4)
    buf.extend(np.arange(3), np.arange(3) * 2)
    buf.extend(np.arange(3, 10), np.arange(3, 10) * 2)
    x, y = buf.views()
    assert buf.n == 10
    np.testing.assert_array_equal(x, np.arange(10))
    np.testing.assert_array_equal(y, np.arange(10) * 2)


def test_append_adds_exactly_new_points(qtbot):
    plot = LivePlot("Bias", "V", "dI/dV", "S")
    qtbot.addWidget(plot)
    plot.append("4.2 K", np.linspace(-1e-3, 0, 50), np.ones(50))
    plot.append("4.2 K", np.linspace(1e-5, 1e-3, 100), np.full(100, 2.0))
    plot.append("1.5 K", 0.0, 3.0)
    assert plot.point_count("4.2 K") == 150
    assert plot.point_count("1.5 K") == 1
    x, y = plot.curves["4.2 K"].getOriginalDataset()
    assert len(x) == 150 and y[-1] == 2.0 and y[0] == 1.0


def test_rows_routed_by_column_names_batched_and_png_export(qtbot, tmp_path):
    plots = LivePlots()
    qtbot.addWidget(plots.didv)
    label = plots.begin_segment(0, "T00_2K", {"temperature_K": 2.0})
    plots.ingest_row(label, {"V_dc_V": 1e-3, "dIdV_S": 0.02, "temperature_K": 2.0,
                             "time_s": 0.0})
    plots.ingest_row("RT00", {"temperature_K": 4.2, "R_Ohm": 12.0, "time_s": 1.0})
    assert plots.didv.point_count(label) == 1 and plots.rt.point_count("RT00") == 1
    # two temperatures, and the NaN that breaks the line at the segment start
    assert plots.rt.point_count(label) == 0 and plots.t_time.point_count("T") == 3
    assert label not in plots.didv.curves  # not drawn yet
    plots.refresh()
    assert len(plots.didv.curves[label].getOriginalDataset()[0]) == 1
    out = tmp_path / "p.png"
    plots.didv.export_png(str(out))
    assert out.stat().st_size > 0


def _spectrum(plots, step, name, attrs, n=201):
    from pcsdaq.physics import andreev

    label = plots.begin_segment(step, name, attrs)
    v = np.linspace(-8e-3, 8e-3, n)
    g = 0.04 * andreev.conductance(v * 1e3, "btk", (1.5, 0.6, 0.08, 0.0),
                                   attrs.get("temperature_K", 2.0))
    for vi, gi in zip(v, g, strict=True):
        plots.ingest_row(label, {"V_dc_V": vi, "dIdV_S": gi, "dVdI_Ohm": 1 / gi,
                                 "temperature_K": attrs.get("temperature_K", 2.0),
                                 "time_s": 0.0})
    return label, v, g


def test_normalised_view_and_fit_curve_after_a_spectrum_finishes(qtbot):
    plots = LivePlots()
    view = plots.didv
    qtbot.addWidget(view)
    label, v, g = _spectrum(plots, 0, "T00_2K", {"temperature_K": 2.0, "setpoint_K": 2.0})
    plots.refresh()
    view.view.setCurrentText("G/G_N")
    y = view.curves[label].getOriginalDataset()[1]
    assert abs(np.mean(y[:20]) - 1.0) < 0.05 and y.min() < 0.9 * g.max() / g[0]  # G/G_N
    view.view.setCurrentText("dV/dI")
    np.testing.assert_allclose(view.curves[label].getOriginalDataset()[1], 1 / g)
    view.view.setCurrentText("G/G_N")
    with qtbot.waitSignal(view.fits.done, timeout=30000):
        plots.finish()  # the run ended: the spectrum is fitted in the pool
    tr = view.traces[label]
    assert tr.fit is not None and abs(tr.fit["delta_meV"] - 1.5) < 0.05
    assert threading.main_thread().name not in view.fits.threads
    fx, fy = tr.fit_curve.getOriginalDataset()
    inside = np.isfinite(fy)
    assert inside.sum() > 100 and np.max(np.abs(fy[inside] - np.interp(fx[inside], v,
                                                                        g / g[0]))) < 0.05
    names = [lab.text for _, lab in view.plot.legend.items]
    assert any(n.startswith("fit 2.00 K: \u0394=1.5") and "[good]" in n for n in names)


def test_waterfall_keep_last_clear_and_colour_maps(qtbot):
    plots = LivePlots()
    view = plots.didv
    qtbot.addWidget(view)
    a, _, _ = _spectrum(plots, 0, "T00_2K", {"temperature_K": 2.0, "setpoint_K": 2.0}, 40)
    b, _, _ = _spectrum(plots, 0, "T01_6K", {"temperature_K": 6.0, "setpoint_K": 6.0}, 40)
    c, _, _ = _spectrum(plots, 1, "B00_1T", {"temperature_K": 2.0, "field_T": 1.0}, 40)
    plots.refresh()
    assert view.t_bar.isVisible() and view.b_bar.isVisible()
    assert view.t_bar.levels() == (2.0, 6.0) and view.b_bar.colorMap().name != \
        view.t_bar.colorMap().name
    view.view.setCurrentText("G/G_N")
    view.offset.setValue(0.5)
    ya = view.curves[a].getOriginalDataset()[1]
    yb = view.curves[b].getOriginalDataset()[1]
    assert abs((yb[0] - ya[0]) - 0.5) < 0.02  # one waterfall step apart
    view.keep.setValue(2)
    assert list(view.traces) == [b, c]
    view.clear()
    assert not view.traces and not view.curves


def test_approach_and_rt_stay_out_of_the_spectra_legend(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots.didv)
    app = plots.begin_segment(0, "approach", {})
    for k in range(30):
        plots.ingest_row(app, {"time_s": float(k), "steps_total": float(k),
                               "R_Ohm": 1e4 / (k + 1)})
    rt = plots.begin_segment(1, "RT00_0T", {"field_T": 0.0})
    for t in np.linspace(12, 2, 60):
        r = 10 - 8 / (1 + np.exp((t - 7) / 0.2))
        plots.ingest_row(rt, {"time_s": 12 - t, "temperature_K": t, "R_Ohm": r})
    plots.finish()
    plots.refresh()
    assert not plots.didv.traces and not plots.didv.plot.legend.items
    assert plots.approach.point_count(app) == 30 and plots.rt.point_count(rt) == 60
    qtbot.waitUntil(lambda: rt in plots.rt.tc, timeout=10000)
    assert 7.0 < plots.rt.tc[rt].tc_two_slope_K < 7.8  # above the 7 K midpoint


def test_t_vs_clock_time_with_setpoint(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots.t_time)
    seg = plots.begin_segment(0, "T00_5K", {"temperature_K": 5.0, "setpoint_K": 5.0},
                              start_time=1.0e9)
    for k in range(5):
        plots.ingest_row(seg, {"V_dc_V": 0.0, "dIdV_S": 1.0, "temperature_K": 5.0 + k / 100,
                               "time_s": 60.0 * k})
    plots.refresh()
    x, y = plots.t_time.buffers["T"].views()
    np.testing.assert_allclose(x[-5:], 1.0e9 + 60.0 * np.arange(5))
    sx, sy = plots.t_time.buffers["setpoint"].views()
    assert np.all(sy[-5:] == 5.0) and np.isnan(sy[0])


def test_a_large_curve_is_drawn_from_its_envelope_and_zoomed_from_its_points(qtbot):
    from pcsdaq.gui.live_plots import BLOCK, DECIMATE_ABOVE

    rng = np.random.default_rng(3)
    n = DECIMATE_ABOVE + 10 * BLOCK + 7
    x = np.arange(n, dtype=float)
    y = rng.standard_normal(n)
    y[DECIMATE_ABOVE // 2] = np.nan  # a break in the line
    plot = LivePlot("t", "s", "T", "K")
    qtbot.addWidget(plot)
    plot.append("T", x[:1000], y[:1000])
    assert len(plot.curves["T"].getOriginalDataset()[0]) == 1000  # small: the points
    plot.append("T", x[1000:n - 3], y[1000:n - 3])
    plot.append("T", x[n - 3:], y[n - 3:])  # incremental: only new blocks are reduced
    ex, ey = plot.curves["T"].getOriginalDataset()
    assert len(ex) < n / 10
    # each block's minimum and maximum, in order, then the newest points as they are
    blocks = y[: n // BLOCK * BLOCK].reshape(-1, BLOCK)
    assert np.nanmax(ey) == np.nanmax(y) and np.nanmin(ey) == np.nanmin(y)
    assert np.all(np.diff(ex[~np.isnan(ex)]) > 0)
    assert np.isnan(ey).sum() == 1  # the block with the break keeps its points
    np.testing.assert_array_equal(ey[-(n % BLOCK):], y[-(n % BLOCK):])
    clean = ~np.isnan(blocks).any(axis=1)
    assert len(ex) == 2 * clean.sum() + BLOCK * (~clean).sum() + n % BLOCK
    plot.getPlotItem().getViewBox().setXRange(10.0, 500.0)  # the user zooms in: the points
    x_shown, y_shown = plot.curves["T"].getOriginalDataset()
    assert len(x_shown) == n and np.array_equal(y_shown, y, equal_nan=True)
    plot.getPlotItem().getViewBox().enableAutoRange()
    assert len(plot.curves["T"].getOriginalDataset()[0]) == len(ex)


def test_sticky_range_keeps_the_view_until_the_data_leave_it_or_fill_too_little():
    from pcsdaq.gui.live_plots import sticky_range

    assert sticky_range((0.0, 10.0), (1.0, 9.0)) is None  # inside, fills 80 %: kept
    assert sticky_range((0.0, 10.0), (0.0, 10.0)) is None
    lo, hi = sticky_range((0.0, 10.0), (0.0, 12.0))  # outgrown: 10 % of the span to spare
    assert (lo, hi) == pytest.approx((-1.2, 13.2))
    lo, hi = sticky_range((0.0, 10.0), (4.0, 6.0))  # fills 20 %: shrinks around the data
    assert (lo, hi) == pytest.approx((3.8, 6.2))


def test_a_growing_sweep_stays_in_view_with_few_range_changes(qtbot):
    """Auto-range still shows every point, but moves the view (and re-lays out the axes)
    only when the data outgrow it: a handful of times over a 400-point sweep drawn in 80
    refreshes, not 80. (pyqtgraph's peak downsampling may hold back the newest few points
    of a curve, and bins the first few dozen by the default view's width until the view has
    closed in: those are left out of the check.)"""
    plot = LivePlot("Bias", "V", "dI/dV", "S")
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    plot.show()
    vb = plot.getPlotItem().getViewBox()
    changes = []
    vb.sigRangeChanged.connect(lambda *_: changes.append(1))
    v = np.linspace(-10e-3, 10e-3, 400)
    noise = 2e-4 * np.random.default_rng(3).standard_normal(400)
    g = 0.02 * (1 + 0.3 * np.exp(-(v / 2e-3) ** 2)) + noise
    closed_in = None
    for i in range(5, 405, 5):
        plot.append("s", v[i - 5:i], g[i - 5:i], redraw=False)
        plot.refresh()
        plot.grab()  # a paint: pyqtgraph updates its auto-range here
        (x0, x1), (y0, y1) = vb.viewRange()
        if closed_in is None and x0 <= v[0] and x1 - x0 < 0.1:
            closed_in = i
        if closed_in is not None:  # from then on no point older than 10 leaves the view
            assert x0 <= v[0] and v[i - 10] <= x1
            assert y0 <= g[: i - 10].min() and g[: i - 10].max() <= y1
    assert closed_in is not None and closed_in < 150
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= v[0] and v[-1] <= x1 and y0 <= g.min() and g.max() <= y1
    assert x1 - x0 < 1.5 * (v[-1] - v[0]) and y1 - y0 < 1.5 * (g.max() - g.min())
    assert vb.autoRangeEnabled()[0] and not plot.zoomed()
    # pyqtgraph's own auto-range: 67 changes in 80 refreshes; this one: 23
    assert 0 < len(changes) < 40, len(changes)
