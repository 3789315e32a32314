"""Incremental plot updates add exactly the new points."""

import numpy as np

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
    assert plots.rt.point_count(label) == 0 and plots.t_time.point_count("T") == 2
    assert label not in plots.didv.curves  # not drawn yet
    plots.refresh()
    assert len(plots.didv.curves[label].getOriginalDataset()[0]) == 1
    out = tmp_path / "p.png"
    plots.didv.export_png(str(out))
    assert out.stat().st_size > 0
