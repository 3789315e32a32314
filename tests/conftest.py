"""Shared test configuration: Qt offscreen, paths to ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the live BTK fit (a worker process per run) is off in tests unless a test turns it on
# (RunEngine(live_fit=True)): the suite stays fast; subprocesses inherit the switch
os.environ.setdefault("PCSDAQ_LIVE_FIT", "0")

REPO = Path(__file__).resolve().parents[1]
#: CI lays the repository clone out with ``shared/`` beside it (a worktree here likewise)
SHARED = REPO.parent / "shared"


@pytest.fixture
def repo_root() -> Path:
    """The checkout's root folder."""
    return REPO


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the checkout (docs, real data); skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} (../shared beside the checkout: design docs and real "
                    "spectra) is absent")
    return SHARED


@pytest.fixture
def sim_station():
    """(lab, station): the packaged sim station on an in-process simulated lab.

    The lab and the station share one VirtualClock, so waits cost no real time; the drivers
    are the real ones, talking to the emulators through pymeasure adapters."""
    from pcsdaq.clock import VirtualClock
    from pcsdaq.sim.lab import SimLab
    from pcsdaq.station import Station, packaged_config

    path = packaged_config("station-sim.yaml")
    clock = VirtualClock()
    lab = SimLab.from_station_file(str(path), clock=clock)
    station = Station.from_file(path, adapter_factory=lab.adapter_factory(), clock=clock)
    try:
        yield lab, station
    finally:
        station.close()
