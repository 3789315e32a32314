"""pcsdaq procedures in pymeasure's own GUI: a ManagedWindow each for BiasSweep and
TemperatureSeries, run by pymeasure's Worker on the simulated lab.

Run: ``python examples/pymeasure_window.py [--station sim:configs/station-sim.yaml]
[--directory DIR] [--procedure bias_sweep|temperature_series|both] [--no-hdf5]``.

Each queued run is a pymeasure CSV in the window's directory (readable with pymeasure's
``Results.load``) and, unless ``--no-hdf5``, pcsdaq's HDF5 run record beside it (same name,
``.h5``: parameters, station snapshot, segments; ``pcsdaq analyze`` reads it). The
``station`` input names the station file: ``sim:FILE`` for that file's simulated lab in this
process on a virtual clock, a plain path for the file's instruments. The measurement is
pcsdaq's own ``execute_on``, the one the RunEngine runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pymeasure.display.Qt import QtWidgets
from pymeasure.display.windows import ManagedWindow

from pcsdaq.procedures import BiasSweep, TemperatureSeries
from pcsdaq.procedures.pymeasure_adapter import pymeasure_label

REPO = Path(__file__).resolve().parents[1]
SIM_STATION = f"sim:{REPO / 'configs' / 'station-sim.yaml'}"

#: the parameters each window shows, in this order
INPUTS = {
    BiasSweep: ["station", "max_current_A", "n_points", "direction", "sine_voltage_V",
                "time_constant_s", "sensitivity_V", "settle_factor"],
    TemperatureSeries: ["station", "setpoints_K", "heater_range", "tolerance_K", "window_s",
                        "timeout_s", "max_current_A", "n_points", "sine_voltage_V",
                        "time_constant_s", "sensitivity_V"],
}


class StationWindow(ManagedWindow):
    """A ManagedWindow for one pcsdaq procedure: dI/dV against V_dc plotted live."""

    def __init__(self, procedure_class: type, station: str = SIM_STATION,
                 directory: str | Path = ".", hdf5: bool = True) -> None:
        super().__init__(
            procedure_class=procedure_class,
            inputs=INPUTS[procedure_class],
            displays=["station", "max_current_A", "n_points"],
            x_axis=pymeasure_label(procedure_class.AXES[0],
                                   procedure_class.COLUMNS[procedure_class.AXES[0]]),
            y_axis=pymeasure_label(procedure_class.SIGNAL,
                                   procedure_class.COLUMNS[procedure_class.SIGNAL]),
            sequencer=True,
            sequencer_inputs=["max_current_A", "sine_voltage_V"],
        )
        self.hdf5 = hdf5
        self._own_blink_timer()
        self.setWindowTitle(f"pcsdaq {procedure_class.NAME} (pymeasure)")
        self.directory = str(directory)
        self.filename = procedure_class.NAME
        self.inputs.station.setValue(station)

    def _own_blink_timer(self) -> None:
        """pymeasure's LogWidget blinks its tab on warnings with a QTimer that is a class
        attribute, shared by every window of the process: a second window's widget, whose
        blink colour was never set, is then blinked too and raises in the event loop. Each
        window's log widget gets a timer of its own."""
        from pymeasure.display.Qt import QtCore
        from pymeasure.display.widgets.log_widget import LogWidget

        widget = getattr(self, "log_widget", None)
        if widget is None:
            return
        try:
            LogWidget._blink_qtimer.timeout.disconnect(widget._blink)
        except (TypeError, RuntimeError):
            pass
        widget._blink_qtimer = QtCore.QTimer(widget)
        widget._blink_qtimer.timeout.connect(widget._blink)

    def new_experiment(self, results, curve=None):
        """pymeasure's experiment; the HDF5 record goes beside the CSV when asked for."""
        if self.hdf5:
            results.procedure.hdf5_path = str(Path(results.data_filename).with_suffix(".h5"))
        return super().new_experiment(results, curve)


def main(argv: list[str] | None = None) -> int:
    """Open the windows and run the Qt event loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--station", default=SIM_STATION,
                        help="station file, or sim:FILE for its simulated lab")
    parser.add_argument("--directory", default=".", help="where the CSV files go")
    parser.add_argument("--no-hdf5", action="store_true",
                        help="pymeasure's CSV only, no HDF5 record beside it")
    parser.add_argument("--procedure", default="both",
                        choices=["bias_sweep", "temperature_series", "both"])
    args = parser.parse_args(argv)
    app = QtWidgets.QApplication(sys.argv)
    classes = {"bias_sweep": [BiasSweep], "temperature_series": [TemperatureSeries],
               "both": [BiasSweep, TemperatureSeries]}[args.procedure]
    windows = [StationWindow(cls, args.station, args.directory, hdf5=not args.no_hdf5)
               for cls in classes]
    for window in windows:
        window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
