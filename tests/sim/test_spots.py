"""The sample's contact spots: seeded per cell, distributions like the paper's, reached with
the ANC300's lateral axes through the real driver."""

from collections import Counter

import numpy as np
import pytest

from pcsdaq.errors import ConfigError
from pcsdaq.runner.launch import open_station
from pcsdaq.sim.config import check_sim_section
from pcsdaq.sim.spots import SHORT_OHM, SpotMap
from pcsdaq.station import packaged_config


def test_a_spot_depends_on_seed_and_cell_not_on_the_order_of_visits():
    a, b = SpotMap(7, "PtIr", "Ce"), SpotMap(7, "PtIr", "Ce")
    forward = [a.spot((i, 0)) for i in range(1, 30)]
    backward = [b.spot((i, 0)) for i in reversed(range(1, 30))][::-1]
    assert forward == backward
    assert SpotMap(8, "PtIr", "Ce").spot((1, 0)) != forward[0]


def test_needle_sets_the_mean_tc_and_diameters_span_10_to_200_nm():
    def tcs(needle):
        m = SpotMap(3, needle, "Ce")
        spots = [m.spot((i, j)) for i in range(1, 30) for j in range(10)]
        return spots, [s.tc_K for s in spots if s.kind == "superconducting"]

    spots, au = tcs("Au")
    _, ptir = tcs("PtIr")
    assert 11.0 < np.mean(au) < 13.0 and 16.0 < np.mean(ptir) < 18.0
    assert max(ptir) <= 21.0
    d = [s.diameter_nm for s in spots]
    assert 10.0 <= min(d) < 15.0 and 150.0 < max(d) <= 200.0
    kinds = Counter(s.kind for s in spots)
    assert set(kinds) == {"superconducting", "normal", "short", "open", "drifting"}
    assert kinds["superconducting"] > 0.6 * len(spots)


def test_lateral_axes_move_the_needle_to_spots_of_their_own():
    station, lab, _ = open_station(packaged_config("station-sim.yaml"), sim="inprocess",
                                   time_scale=0)
    try:
        contact = lab.contact
        assert contact.spot is None  # the home cell: the single-contact model
        station.positioner.step_lateral("x", 80)  # 4 um at 30 V
        station.positioner.step_lateral("y", 160)
        assert contact.spot is not None and contact.spot.cell == (1, 2)
        assert contact.spot == contact.spots.spot((1, 2))
        station.positioner.step_lateral("y", -160)
        assert contact.spot.cell == (1, 0)
    finally:
        station.close()


def _touch(lab, cell):
    contact = lab.contact
    contact.x_m, contact.y_m = contact.spots.pitch_m * cell[0], 0.0
    contact.step_lateral(0, 0, 30.0)
    while not contact.touching:
        contact.step(10, 30.0)
    contact.step(2, 30.0)
    return contact


def test_short_and_open_spots_and_a_superconducting_spot_truth():
    from pcsdaq.sim.lab import SimLab

    lab = SimLab.from_station_file(packaged_config("station-sim.yaml"))
    kinds = {}
    for i in range(1, 40):
        kinds.setdefault(lab.contact.spots.spot((i, 0)).kind, i)
    short = _touch(lab, (kinds["short"], 0))
    assert short.normal_resistance_ohm() == SHORT_OHM
    assert short.dvdi_ohm(0.0) < 0.1
    opened = _touch(lab, (kinds["open"], 0))
    assert opened.touching and opened.dvdi_ohm(0.0) > 1e9
    sc = _touch(lab, (kinds["superconducting"], 0))
    truth = sc.truth()
    assert truth["tc_K"] == truth["spot"]["tc_K"] > 2.0
    assert 1.0 < sc.normal_resistance_ohm() / truth["spot"]["r_ohm"] <= 1.5


def test_sim_section_checks_spot_keys():
    assert check_sim_section({"spot_pitch_m": 2e-6, "spot_fractions": {"short": 0.2}})
    with pytest.raises(ConfigError, match="sim.spot_fractions.crater"):
        check_sim_section({"spot_fractions": {"crater": 0.1}})
    with pytest.raises(ConfigError, match="add up to more than 1"):
        check_sim_section({"spot_fractions": {"short": 0.7, "open": 0.6}})
