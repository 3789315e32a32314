"""Data browser: open earlier runs (HDF5) and text spectra as labs write them, overlay their
spectra or R(T), fit a spectrum with the same fit as ``pcsdaq fit`` (model, bias offset,
background, symmetrisation, window; the verdict and preprocessing steps are shown)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PyQt6 import QtCore, QtWidgets

from pcsdaq.gui.fit_worker import FitRunner, warm_up
from pcsdaq.gui.live_plots import RTPlot
from pcsdaq.gui.spectra_view import SpectraView

if TYPE_CHECKING:
    from pcsdaq.storage.reader import Segment


class DataBrowser(QtWidgets.QWidget):
    """List of opened runs' segments; the checked ones are overlaid (spectra and R(T) each on
    their own axes); fit of the selected spectrum. Reading and fitting run in the thread
    pool: ``opened(n segments)`` and ``fitted(result)`` say when they are done."""

    opened = QtCore.pyqtSignal(int)
    fitted = QtCore.pyqtSignal(dict)

    def __init__(self, parent=None, settings=None) -> None:
        super().__init__(parent)
        self.settings = settings  #: QSettings remembering the last run folder (or None)
        lay = QtWidgets.QHBoxLayout(self)
        panel = QtWidgets.QWidget()
        # a fixed width: a longer result line never resizes (and so repaints) the plots
        panel.setFixedWidth(320)
        left = QtWidgets.QVBoxLayout(panel)
        left.setContentsMargins(0, 0, 0, 0)
        self.open_button = QtWidgets.QPushButton("Open runs...")
        self.open_button.clicked.connect(self.open_dialog)
        left.addWidget(self.open_button)
        self.list = QtWidgets.QListWidget()
        self.list.itemChanged.connect(self._redraw)
        left.addWidget(self.list, 1)
        form = QtWidgets.QFormLayout()
        self.model = QtWidgets.QComboBox()
        self.model.addItems(["btk", "spin", "two-gap"])
        form.addRow("Model", self.model)
        self.offset = QtWidgets.QComboBox()
        self.offset.addItems(["none", "auto"])
        form.addRow("Bias offset", self.offset)
        self.background = QtWidgets.QComboBox()
        self.background.addItems(["none", "auto"])
        form.addRow("Background", self.background)
        self.symmetrize = QtWidgets.QCheckBox("symmetrise (common range)")
        form.addRow("", self.symmetrize)
        self.window_mV = QtWidgets.QDoubleSpinBox()
        self.window_mV.setRange(0.0, 1000.0)
        self.window_mV.setSpecialValueText("whole spectrum")
        self.window_mV.setSuffix(" mV")
        form.addRow("Fit window", self.window_mV)
        self.temperature_K = QtWidgets.QDoubleSpinBox()
        self.temperature_K.setRange(0.01, 400.0)
        self.temperature_K.setValue(2.0)
        self.temperature_K.setSuffix(" K")
        form.addRow("T of text spectra", self.temperature_K)
        left.addLayout(form)
        self.fit_button = QtWidgets.QPushButton("Fit the selected spectrum")
        self.fit_button.clicked.connect(self.fit_selected)
        left.addWidget(self.fit_button)
        self.result = QtWidgets.QLabel("")
        self.result.setWordWrap(True)
        left.addWidget(self.result)
        lay.addWidget(panel)
        self.spectra = SpectraView(live_fit=False)
        self.rt = RTPlot()
        self.plots = QtWidgets.QTabWidget()
        self.plots.addTab(self.spectra, "Spectra")
        self.plots.addTab(self.rt, "R(T)")
        lay.addWidget(self.plots, 3)
        self.segments: list[tuple[str, Segment]] = []
        self.spectra.fits.done.connect(self._fit_done)
        self.loader = FitRunner(self)
        self.loader.done.connect(self._loaded)
        warm_up()  # the worker process starts with the window, not at the first open or fit

    def open_runs(self, paths: list[str]) -> None:
        """Read these run files and text spectra in the thread pool, then add their segments
        to the list (checked: overlaid) and emit ``opened``; a file that cannot be read is
        named with the reason in the result line."""
        self.result.setText("reading " + ", ".join(Path(p).name for p in paths) + "...")
        # in the worker process: h5py holds the interpreter lock while it reads (a 10^5-row
        # run stalled the GUI thread ~100 ms when read in a pool thread)
        self.loader.submit(tuple(paths), _read_files, list(paths))

    def _loaded(self, _key: object, found: object, _thread: str) -> None:
        if isinstance(found, Exception):  # the worker process died
            self.result.setText(f"cannot read: {found}")
            self.opened.emit(len(self.segments))
            return
        assert isinstance(found, tuple)
        opened, problems = found
        for path, segments in opened:
            for seg in segments:
                label = f"{Path(path).name} / {seg.name}"
                item = QtWidgets.QListWidgetItem(label)
                item.setFlags(item.flags() | item.flags().ItemIsUserCheckable)
                item.setCheckState(item.checkState().Checked)
                self.segments.append((label, seg))
                self.list.addItem(item)
        self.result.setText("; ".join(problems))
        self._redraw()
        self.opened.emit(len(self.segments))

    def open_dialog(self) -> None:
        """Ask for run files and open them."""
        start = str(self.settings.value("last_run_dir", "")) if self.settings is not None else ""
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Open runs", start,
                                                          "Runs and spectra (*.h5 *.csv *.txt "
                                                          "*.dat);;All files (*)")
        if paths:
            if self.settings is not None:
                self.settings.setValue("last_run_dir", str(Path(paths[0]).parent))
            self.open_runs(paths)

    def _redraw(self, *_args) -> None:
        """Overlay the checked segments: spectra on the spectra's axes, R(T) on R(T) axes
        (with the Tc construction, found off the GUI thread)."""
        self.spectra.clear()
        self.rt.clear_curves()
        shown = {"spectra": 0, "rt": 0}
        for i, (label, seg) in enumerate(self.segments):
            item = self.list.item(i)
            if item is None or item.checkState() != QtCore.Qt.CheckState.Checked:
                continue
            cols = seg.columns
            if "V_dc_V" in cols and np.isfinite(cols.get("dIdV_S", [np.nan])).sum() >= 8:
                self.spectra.begin_spectrum(label, {**seg.attrs, "_name": seg.name})
                self.spectra.extend(label, cols["V_dc_V"], cols["dIdV_S"],
                                    cols.get("dVdI_Ohm"), cols.get("temperature_K"))
                self.spectra.finish(label)
                shown["spectra"] += 1
            elif "R_Ohm" in cols and "temperature_K" in cols:
                self.rt.append(label, cols["temperature_K"], cols["R_Ohm"])
                self.rt.finish(label)
                shown["rt"] += 1
        self.spectra.refresh()
        if shown["rt"] and not shown["spectra"]:
            self.plots.setCurrentWidget(self.rt)
        elif shown["spectra"]:
            self.plots.setCurrentWidget(self.spectra)

    def fit_selected(self) -> bool:
        """Fit the selected spectrum (at its mean temperature, or the T box for a text
        spectrum) with the chosen model and preprocessing, in the thread pool; the fitted
        curve is drawn over it, the result shown and emitted by ``fitted``. False when no
        spectrum is selected."""
        row = self.list.currentRow()
        if row < 0 or "dIdV_S" not in self.segments[row][1].columns:
            self.result.setText("select a spectrum first")
            return False
        label, seg = self.segments[row]
        item = self.list.item(row)
        if label not in self.spectra.traces and item is not None:
            item.setCheckState(QtCore.Qt.CheckState.Checked)
        has_t = "temperature_K" in seg.columns and \
            self.spectra.traces[label].temperature_K is not None
        started = self.spectra.fit(label, temperature_K=None if has_t else
                                   self.temperature_K.value(),
                                   model=self.model.currentText(),
                                   window_mV=self.window_mV.value() or None,
                                   offset=self.offset.currentText(),
                                   background=self.background.currentText(),
                                   symmetrize=self.symmetrize.isChecked())
        self.result.setText("fitting..." if started else "no fit: too few points")
        self.plots.setCurrentWidget(self.spectra)
        return started

    def _fit_done(self, key: object, fit: object, _thread: str) -> None:
        if isinstance(fit, Exception):
            self.result.setText(f"no fit: {fit}")
            return
        assert isinstance(fit, dict)
        dips = (", dips at " + ", ".join(f"{d:+.2f}" for d in fit["dips_mV"]) + " mV"
                if fit["dips_mV"] else "")
        extra = f", P = {fit['P']:.2f}" if fit["model"] == "spin" else ""
        self.result.setText(f"{key}\nT = {fit['temperature_K']:.2f} K: Delta = "
                            f"{fit['delta_meV']:.3f} +- {fit['delta_meV_err']:.3f} meV, "
                            f"Z = {fit['Z']:.2f}, Gamma = {fit['gamma_meV']:.3f} meV{extra}; "
                            f"{fit['verdict']}{dips}"
                            + "".join(f"\n{r}" for r in fit["reasons"])
                            + "".join(f"\n{p}" for p in fit["preprocessing"]))
        self.fitted.emit(fit)


def _text_segment(path: str):
    """A text spectrum as a one-segment entry (columns V_dc_V, dIdV_S; no temperature)."""
    from pcsdaq.analysis.readers import read_spectrum
    from pcsdaq.storage.reader import Segment

    spec = read_spectrum(path)
    return Segment(name=f"spectrum ({spec.bias_unit}: {spec.bias_unit_reason})",
                   attrs={"source": str(path)},
                   columns={"V_dc_V": spec.bias_V, "dIdV_S": spec.g},
                   units={"V_dc_V": "V", "dIdV_S": "S"})


def _read_files(paths: list[str]) -> tuple[list[tuple[str, list]], list[str]]:
    """([(path, segments)], [problems]) for run files and text spectra (any thread)."""
    from pcsdaq.errors import PcsdaqError
    from pcsdaq.storage import read_run

    opened, problems = [], []
    for path in paths:
        try:
            with open(path, "rb") as f:
                hdf5 = f.read(8) == b"\x89HDF\r\n\x1a\n"
            opened.append((path, read_run(path).segments if hdf5 else [_text_segment(path)]))
        except (PcsdaqError, OSError, RuntimeError, KeyError, ValueError) as exc:
            problems.append(str(exc))
    return opened, problems
