"""examples/pymeasure_window.py: pymeasure's ManagedWindow queues and runs pcsdaq procedures
on the in-process simulated lab (offscreen)."""

from __future__ import annotations

import importlib.util
import logging
import sys

import pytest

pytest.importorskip("pytestqt")

from pymeasure.experiment import Procedure, Results  # noqa: E402

from pcsdaq.procedures import BiasSweep, TemperatureSeries  # noqa: E402
from pcsdaq.procedures.pymeasure_adapter import forget_sim_labs  # noqa: E402
from pcsdaq.storage import read_run  # noqa: E402


@pytest.fixture
def example(repo_root):
    """The example module, loaded from its file; the log handlers its windows hang on the
    root logger are taken off afterwards (their widgets are gone with the test)."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    path = repo_root / "examples" / "pymeasure_window.py"
    spec = importlib.util.spec_from_file_location("pymeasure_window_example", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    forget_sim_labs()
    yield module
    forget_sim_labs()
    sys.modules.pop(spec.name, None)
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)


def test_managed_window_queues_and_runs_a_bias_sweep(example, qtbot, tmp_path):
    window = example.StationWindow(BiasSweep, directory=tmp_path)
    qtbot.addWidget(window)
    assert window.inputs.station.value() == example.SIM_STATION
    window.inputs.n_points.setValue(21)
    window.inputs.max_current_A.setValue(1e-3)
    window.queue()
    experiment = window.manager.experiments.queue[0]
    qtbot.waitUntil(lambda: experiment.procedure.status == Procedure.FINISHED
                    and not window.manager.is_running(), timeout=60000)

    files = sorted(tmp_path.glob("bias_sweep*.csv"))
    assert len(files) == 1
    loaded = Results.load(str(files[0]))
    assert loaded.procedure.n_points == 21
    assert len(loaded.data) == 21
    assert loaded.data["bias_set (A)"].max() == pytest.approx(1e-3)
    record = read_run(files[0].with_suffix(".h5"))  # the HDF5 record beside the CSV
    assert record.status == "finished" and record.n_rows == 21
    assert window.plot_widget.plot_frame.x_axis == "V_dc (V)"
    assert window.plot_widget.plot_frame.y_axis == "dIdV (S)"


def test_temperature_series_window_builds_its_inputs(example, qtbot, tmp_path):
    window = example.StationWindow(TemperatureSeries, directory=tmp_path)
    qtbot.addWidget(window)
    window.inputs.setpoints_K.setValue([0.7, 0.9])
    procedure = window.make_procedure()
    assert isinstance(procedure, TemperatureSeries)
    assert procedure.setpoints_K == [0.7, 0.9]
    assert procedure.station == example.SIM_STATION


def test_sequencer_queues_one_sweep_per_value(example, qtbot, tmp_path):
    window = example.StationWindow(BiasSweep, directory=tmp_path / "data", hdf5=False)
    qtbot.addWidget(window)
    window.inputs.n_points.setValue(11)
    sequence = tmp_path / "sequence.txt"
    sequence.write_text('- "Maximum |bias current|", "[5e-4, 1e-3]"\n')
    window.sequencer.load_sequence(filename=str(sequence))
    window.sequencer.queue_sequence()
    experiments = list(window.manager.experiments.queue)
    assert len(experiments) == 2
    qtbot.waitUntil(lambda: all(e.procedure.status == Procedure.FINISHED for e in experiments)
                    and not window.manager.is_running(), timeout=60000)

    maxima = sorted(Results.load(str(f)).data["bias_set (A)"].max()
                    for f in (tmp_path / "data").glob("bias_sweep*.csv"))
    assert maxima == pytest.approx([5e-4, 1e-3])
    assert not list((tmp_path / "data").glob("*.h5"))
