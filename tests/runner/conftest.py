"""Helpers for runner tests on the in-process simulated lab."""

import pytest

from pcsdaq.runner.engine import RunEngine


def walk_in(lab, low=20.0, high=40.0):
    """Put the simulated needle in contact with R inside [low, high] Ohm (no station I/O)."""
    return lab.contact.place(high, low)


@pytest.fixture
def engine_on_sim(sim_station, tmp_path):
    """(lab, station, engine, events): an engine writing into tmp_path/data."""
    lab, station = sim_station
    engine = RunEngine(station, tmp_path / "data", plan_source="test")
    events = []
    engine.subscribe(events.append)
    return lab, station, engine, events
