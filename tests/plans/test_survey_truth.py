"""The contact survey against the simulator's truth: each spot's row compared with the
contact the needle really made there.

The survey meets many contacts, and the home cell draws a new one at every touch, so the
truth is taken where it happens: the truth of every contact the simulator makes is recorded
when the needle leaves it, and each row is matched with the last contact to end by the time
its needle left the spot."""

from __future__ import annotations

import pytest
from survey_helpers import survey_plan, survey_rows

from pcsdaq.sim import contact as sim_contact
from pcsdaq.station import packaged_config

pytestmark = pytest.mark.slow
#: three spots of the seed-7 sample (a ballistic contact, an insulating patch, an
#: intermediate contact), two series temperatures, lean spectra: as test_survey_served
SHORT = {"n_spots": 3, "series_fractions": "0.5, 0.8", "series_points": 40, "n_points": 81}


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    """(rows, contacts): the survey table and every contact made, as (lab time it ended in
    s, its truth when the needle left it; or the end of the run for the last one)."""
    from pcsdaq.cli import main

    tmp = tmp_path_factory.mktemp("survey_truth")
    contacts: list[tuple[float, dict]] = []
    step, lab_holder = sim_contact.Contact.step, []

    def recording_step(self, n, voltage_V):
        lab_holder[:] = [self]
        truth = self.truth() if self.touching else None
        step(self, n, voltage_V)
        if truth and not self.touching:
            contacts.append((self.lab.clock.now(), truth))

    sim_contact.Contact.step = recording_step  # type: ignore[method-assign]
    try:
        plan = survey_plan(tmp, packaged_config("station-sim.yaml"), **SHORT)
        code = main(["run", str(plan), "--sim", "inprocess", "--time-scale", "0", "--data",
                     str(tmp / "data")])
    finally:
        sim_contact.Contact.step = step  # type: ignore[method-assign]
    assert code == 0
    last = lab_holder[0]
    if last.touching and last.truth():
        contacts.append((last.lab.clock.now(), last.truth()))
    return survey_rows(tmp / "data"), contacts


#: lab time between a row being written and its needle leaving the spot (the retract), s
LEAVE_S = 60.0


def _truth_of(rows: list[dict], k: int, contacts: list[tuple[float, dict]]) -> dict:
    """The truth of the contact spot ``k`` measured: the last contact to end between the
    previous spot's leaving and this row (written just before the needle leaves)."""
    after = float(rows[k - 1]["lab_time_s"]) + LEAVE_S if k else -1.0
    until = float(rows[k]["lab_time_s"]) + LEAVE_S
    ended = [t for when, t in contacts if after < when <= until]
    return ended[-1] if ended else {}


def test_every_spot_is_judged_as_the_contact_the_needle_made_there(survey):
    rows, contacts = survey
    assert [r["regime"] for r in rows] == ["ballistic", "open", "intermediate"]
    for k, row in enumerate(rows):
        truth = _truth_of(rows, k, contacts)
        if row["regime"] == "open":  # an insulating patch: touched, no electrical contact
            assert "regime" not in truth and truth["spot"]["kind"] == "open"
        else:
            assert truth["regime"] == row["regime"], (row, truth)


def test_the_ballistic_spot_gives_the_drawn_gap_barrier_and_broadening(survey):
    rows, contacts = survey
    truth = _truth_of(rows, 0, contacts)
    row = rows[0]
    assert float(row["delta_meV"]) == pytest.approx(truth["delta0_meV"], rel=0.05)
    assert float(row["Z"]) == pytest.approx(truth["z"], abs=0.1)
    assert float(row["gamma_meV"]) == pytest.approx(truth["gamma_meV"], rel=0.3)
    # a spectroscopic Tc: a BCS fit of the gaps of a short series (0.5 and 0.8 Tc)
    assert float(row["tc_K"]) == pytest.approx(truth["tc_K"], rel=0.08)


def test_the_intermediate_spot_gives_the_drawn_tc_from_r_of_t(survey):
    rows, contacts = survey
    truth = _truth_of(rows, 2, contacts)
    row = rows[2]
    assert row["tc_definition"].startswith("two-slope")
    assert float(row["tc_K"]) == pytest.approx(truth["tc_K"], abs=0.7)
    assert float(row["ic_A"]) > 0


def test_a_spot_s_size_comes_from_its_normal_state_resistance(survey):
    """Wexler's formula takes the normal-state resistance (the paper's supplement): the
    spectrum's high-bias resistance matches the spot's drawn one (it settles to it when
    pressed, plus mOhm leads) and gives its drawn diameter; the zero-bias reading at base
    temperature, below Tc, is lower (the Maxwell part of this intermediate contact is
    superconducting) and would make the contact look 20 % wider."""
    rows, contacts = survey
    row = rows[2]
    spot = _truth_of(rows, 2, contacts)["spot"]
    assert float(row["R_normal_ohm"]) == pytest.approx(spot["r_ohm"], rel=0.10)
    assert float(row["diameter_nm"]) == pytest.approx(spot["diameter_nm"], rel=0.10)
    assert float(row["R_ohm"]) < 0.9 * float(row["R_normal_ohm"])
