"""AdaptiveBiasSweep through the engine on the in-process simulated lab."""

import numpy as np
import pytest
from lab_helpers import walk_in

from pcsdaq.runner.plan import PlanStep
from pcsdaq.storage import read_run


@pytest.mark.slow
def test_adaptive_sweep_through_the_engine_records_batches_in_acquisition_order(
        engine_on_sim):
    lab, _station, engine, events = engine_on_sim
    walk_in(lab)
    engine.queue = [PlanStep("adaptive_sweep", {
        "max_current_A": 5e-4, "n_points": 15, "batch_points": 8, "max_points": 39,
        "target_delta_rel_err": 0.0, "sensitivity_V": 1e-5, "time_constant_s": 0.01})]
    assert engine.run_blocking() == "finished"
    run = read_run(engine.files[0])
    seg = run.segments[0]
    batch = seg.columns["batch"]
    assert run.n_rows == 39 and np.all(np.diff(batch) >= 0) and batch[0] == 0
    assert np.count_nonzero(batch == 0) == 15
    assert np.all(np.diff(seg.columns["time_s"]) > 0)  # acquisition order
    assert lab.emulators["sr830"].aux_out[0] == 0.0
    logs = [e for e in events if e["type"] == "log" and "adaptive" in e.get("message", "")]
    assert any("point budget" in e["message"] for e in logs)
