"""The data browser opens text spectra as labs write them and fits with the chosen model."""

import pytest

from pcsdaq.gui.data_browser import DataBrowser
from tests.analysis.realdata import realdata


@pytest.fixture
def browser(qtbot):
    widget = DataBrowser()
    qtbot.addWidget(widget)
    return widget


def test_text_spectrum_fitted_with_spin_model(browser):
    browser.open_runs([str(realdata("tp_t1.csv"))])
    assert browser.list.count() == 1 and "mV" in browser.list.item(0).text()
    browser.list.setCurrentRow(0)
    browser.model.setCurrentText("spin")
    browser.temperature_K.setValue(1.66)
    fit = browser.fit_selected()
    assert fit["model"] == "spin" and 0.2 < fit["P"] < 0.6 and fit["temperature_K"] == 1.66
    assert "good" in browser.result.text() or "degenerate" in browser.result.text()


def test_unreadable_file_is_named(browser, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes("V,G\n1,2\n".encode("utf-16"))
    browser.open_runs([str(bad)])
    assert browser.list.count() == 0 and "UTF-16" in browser.result.text()
