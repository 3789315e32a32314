"""Helpers for runner tests on the in-process simulated lab."""

import pytest

from pcsdaq.runner.engine import RunEngine


@pytest.fixture
def engine_on_sim(sim_station, tmp_path):
    """(lab, station, engine, events): an engine writing into tmp_path/data."""
    lab, station = sim_station
    engine = RunEngine(station, tmp_path / "data", plan_source="test")
    events = []
    engine.subscribe(events.append)
    return lab, station, engine, events
