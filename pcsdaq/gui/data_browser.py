"""Data browser: open earlier runs (HDF5), overlay their spectra or R(T), fit a spectrum."""

from __future__ import annotations

from pathlib import Path

from PyQt6 import QtWidgets

from pcsdaq.gui.live_plots import LivePlot


class DataBrowser(QtWidgets.QWidget):
    """List of opened runs' segments; the checked ones are overlaid; BTK fit of the selected."""

    def __init__(self, parent=None, settings=None) -> None:
        super().__init__(parent)
        self.settings = settings  #: QSettings remembering the last run folder (or None)
        lay = QtWidgets.QHBoxLayout(self)
        left = QtWidgets.QVBoxLayout()
        self.open_button = QtWidgets.QPushButton("Open runs...")
        self.open_button.clicked.connect(self.open_dialog)
        left.addWidget(self.open_button)
        self.list = QtWidgets.QListWidget()
        self.list.itemChanged.connect(self._redraw)
        left.addWidget(self.list, 1)
        self.fit_button = QtWidgets.QPushButton("BTK fit of the selected spectrum")
        self.fit_button.clicked.connect(self.fit_selected)
        left.addWidget(self.fit_button)
        self.result = QtWidgets.QLabel("")
        self.result.setWordWrap(True)
        left.addWidget(self.result)
        lay.addLayout(left, 1)
        self.plot = LivePlot("Bias / Temperature", "", "dI/dV / R", "")
        lay.addWidget(self.plot, 3)
        self.segments: list[tuple[str, object]] = []

    def open_runs(self, paths: list[str]) -> None:
        """Add the segments of these run files to the list (checked: overlaid)."""
        from pcsdaq.storage import read_run

        for path in paths:
            run = read_run(path)
            for seg in run.segments:
                label = f"{Path(path).name} / {seg.name}"
                item = QtWidgets.QListWidgetItem(label)
                item.setFlags(item.flags() | item.flags().ItemIsUserCheckable)
                item.setCheckState(item.checkState().Checked)
                self.segments.append((label, seg))
                self.list.addItem(item)
        self._redraw()

    def open_dialog(self) -> None:
        """Ask for run files and open them."""
        start = str(self.settings.value("last_run_dir", "")) if self.settings is not None else ""
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Open runs", start, "Runs (*.h5)")
        if paths:
            if self.settings is not None:
                self.settings.setValue("last_run_dir", str(Path(paths[0]).parent))
            self.open_runs(paths)

    def _redraw(self, *_args) -> None:
        self.plot.clear_curves()
        for i, (label, seg) in enumerate(self.segments):
            if self.list.item(i).checkState() != self.list.item(i).checkState().Checked:
                continue
            cols = seg.columns
            if "dIdV_S" in cols:
                self.plot.append(label, cols["V_dc_V"], cols["dIdV_S"])
            elif "R_Ohm" in cols and "temperature_K" in cols:
                self.plot.append(label, cols["temperature_K"], cols["R_Ohm"])

    def fit_selected(self) -> dict | None:
        """BTK fit of the selected spectrum at its mean temperature; shown and returned."""
        from pcsdaq.analysis.io import AnalysisInputError
        from pcsdaq.analysis.spectrum_fit import fit_segment

        row = self.list.currentRow()
        if row < 0 or "dIdV_S" not in self.segments[row][1].columns:
            self.result.setText("select a spectrum first")
            return None
        try:
            fit = fit_segment(self.segments[row][1])
        except AnalysisInputError as exc:
            self.result.setText(f"no fit: {exc}")
            return None
        dips = (", dips at " + ", ".join(f"{d:+.2f}" for d in fit["dips_mV"]) + " mV"
                if fit["dips_mV"] else "")
        self.result.setText(f"T = {fit['temperature_K']:.2f} K: Delta = {fit['delta_meV']:.3f} "
                            f"+- {fit['delta_meV_err']:.3f} meV, Z = {fit['Z']:.2f}, "
                            f"Gamma = {fit['gamma_meV']:.3f} meV; {fit['verdict']}{dips}")
        return fit
