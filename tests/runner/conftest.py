"""Helpers for runner tests on the in-process simulated lab."""

import pytest

from pcsdaq.runner.engine import RunEngine


def walk_in(lab, low=20.0, high=40.0):
    """Put the simulated needle in contact with R inside [low, high] Ohm (no station I/O)."""
    anc = lab.emulators["anc300"]
    contact = lab.contact
    while not contact.touching:
        contact.step(50, 30.0)
    while contact.normal_resistance_ohm() > high:
        contact.step(1, 30.0)
    assert low <= contact.normal_resistance_ohm() <= high
    return anc


@pytest.fixture
def engine_on_sim(sim_station, tmp_path):
    """(lab, station, engine, events): an engine writing into tmp_path/data."""
    lab, station = sim_station
    engine = RunEngine(station, tmp_path / "data", plan_source="test")
    events = []
    engine.subscribe(events.append)
    return lab, station, engine, events
