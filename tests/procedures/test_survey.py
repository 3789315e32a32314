"""contact_survey on the in-process simulated lab: the summary table, the decisions, each
regime's treatment, and a kill -9 in the middle of `pcsdaq run` finished by --resume."""

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import pytest
import yaml
from survey_helpers import survey_plan, survey_rows

from pcsdaq.cli import main
from pcsdaq.procedures import ContactSurvey
from pcsdaq.station import packaged_config
from pcsdaq.storage import read_run

pytestmark = pytest.mark.slow
PCSDAQ = [sys.executable, "-m", "pcsdaq.cli"]
EXAMPLE = packaged_config("plan-survey.example.yaml")


def _plan(tmp_path, n_spots, station=None, **overrides):
    return survey_plan(tmp_path, station or packaged_config("station-sim.yaml"),
                       n_spots=n_spots, **overrides)


_rows = survey_rows


def test_short_survey_writes_the_table_decisions_and_figures(tmp_path):
    data = tmp_path / "data"
    code = main(["run", str(_plan(tmp_path, 6)), "--sim", "inprocess", "--time-scale", "0",
                 "--data", str(data)])
    assert code == 0
    rows = _rows(data)
    assert [int(r["spot"]) for r in rows] == list(range(6))
    assert {"spot", "regime", "tc_K", "delta_meV", "R_ohm", "diameter_nm", "Z", "gamma_meV",
            "verdict", "tc_definition", "x_steps", "y_steps"} <= set(rows[0])
    regimes = {r["regime"] for r in rows}
    assert {"ballistic", "open"} <= regimes and regimes & {"intermediate", "thermal"}
    for r in rows:
        if r["regime"] == "ballistic":  # temperature series: a spectroscopic Tc
            assert r["tc_definition"].startswith("spectroscopic")
            assert 2.0 < float(r["tc_K"]) < 22.0 and float(r["delta_meV"]) > 0.3
        elif r["regime"] in ("intermediate", "thermal"):  # R(T): the two-slope crossing
            assert r["tc_definition"].startswith("two-slope") and float(r["tc_K"]) > 2.0
            assert float(r["ic_A"]) > 0  # from the dips
        elif r["regime"] == "open":
            assert r["tc_K"] == "" and r["reason"].startswith("no contact")
    # positions follow the raster; every decision is in the run record with its reason
    assert [int(r["x_steps"]) for r in rows] == [100 * k for k in range(6)]
    (run_file,) = data.glob("*_contact_survey.h5")
    meta = read_run(run_file).metadata
    for k in range(6):
        decisions = meta[f"survey_spot{k:03d}"]["decisions"]
        assert decisions and all(d["decision"] and d["reason"] for d in decisions)
    (h5,) = data.glob("survey-*.hdf5")
    with h5py.File(h5) as f:
        assert list(f["survey/spot"][:]) == list(range(6))
        assert len(json.loads(f["survey/decisions_json"][0])) >= 3
        ic_of_t = {name: f["survey/ic_of_T"][name][:] for name in f["survey/ic_of_T"]}
    # I_c(T) from the dips of the dips regimes: at base (the table's ic_A) and on the way
    # back to base at fractions of Tc, falling as T rises towards Tc
    dips = [r for r in rows if r["regime"] in ("intermediate", "thermal")]
    assert dips and {f"spot{int(r['spot']):03d}" for r in dips} == set(ic_of_t)
    for r in dips:
        points = ic_of_t[f"spot{int(r['spot']):03d}"]
        assert points.shape[1] == 2 and len(points) >= 2
        assert points[0, 1] == pytest.approx(float(r["ic_A"]), rel=1e-5)
        assert points[0, 0] < 1.0 and all(points[1:, 0] < float(r["tc_K"]))
        assert all(points[1:, 1] < points[:-1, 1])
    for name in ("tc_histogram", "delta_vs_tc", "tc_vs_diameter"):
        assert len(list(data.glob(f"survey-*_{name}.png"))) == 1


def test_shorts_and_normal_spots_are_logged_and_left(tmp_path):
    station = yaml.safe_load(packaged_config("station-sim.yaml").read_text())
    station["sim"]["spot_fractions"] = {"short": 0.5, "normal": 0.5, "open": 0.0,
                                        "drifting": 0.0}
    station_path = tmp_path / "station.yaml"
    station_path.write_text(yaml.safe_dump(station))
    data = tmp_path / "data"
    # spot 0 is the home cell; move off it first by starting the raster one row down
    code = main(["run", str(_plan(tmp_path, 5, station_path)), "--sim", "inprocess",
                 "--time-scale", "0", "--data", str(data)])
    assert code == 0
    rows = _rows(data)[1:]
    assert {r["regime"] for r in rows} == {"short", "none"}
    for r in rows:
        if r["regime"] == "short":
            assert "crashed into a short" in r["reason"] and float(r["R_ohm"]) < 0.5
        else:
            assert r["reason"] == "no gap features above the noise in the base spectrum"


LEAN = {"series_fractions": "0.5", "series_points": 40, "n_points": 81}


def _kill_after(args, data, spots_done):
    """Start ``pcsdaq run`` (args) and kill -9 it once its state says ``spots_done`` spots
    are done (a moment later it is on its way to, or in, the next spot)."""
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        done = 0
        deadline = time.monotonic() + 90
        while done < spots_done and time.monotonic() < deadline:
            time.sleep(0.05)
            for path in data.glob("pcsdaq-run-*.state.json"):
                try:
                    state = json.loads(path.read_text())
                    done = state["steps"]["0"]["resume_state"].get("next_spot", 0)
                except (ValueError, KeyError):
                    pass
        assert done >= spots_done, "the survey never got going"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)


def test_kill_minus_9_then_resume_on_a_fresh_lab_measures_each_planned_spot_once(tmp_path):
    """kill -9 of `pcsdaq run` mid-survey; --resume on a fresh in-process lab (its needle at
    the lateral origin): the needle is moved back through the positioner, and the spots
    measured are the plan's, each once, at the plan's places."""
    from pcsdaq.runner.engine import RunEngine
    from pcsdaq.runner.launch import open_station
    from pcsdaq.runner.plan import load_plan
    from pcsdaq.sim.contact import Contact

    n = 5
    plan = _plan(tmp_path, n, **LEAN)
    data = tmp_path / "data"
    args = [*PCSDAQ, "run", str(plan), "--sim", "inprocess", "--time-scale", "0",
            "--data", str(data)]
    _kill_after(args, data, 2)
    before = [int(r["spot"]) for r in _rows(data)]
    assert before == list(range(len(before))) and 2 <= len(before) < n
    # resume as `pcsdaq run --resume` does, on a lab this test can look into
    station, lab, _ = open_station(packaged_config("station-sim.yaml"), sim="inprocess",
                                   time_scale=0)
    assert station.fresh_sim_lab
    anc = lab.emulators["anc300"]
    assert (anc.steps_done[1], anc.steps_done[2]) == (0, 0)  # a fresh lab: at the origin
    engine = RunEngine(station, data, plan_source=str(plan.resolve()))
    engine.queue = list(load_plan(plan).steps)
    lines: list[str] = []
    visited = []  # (spot, lateral steps of the lab's needle) at each spot's approach

    def watch(event):
        if event["type"] == "log":
            lines.append(event["message"])
        if event["type"] == "segment" and event["name"].endswith("_approach"):
            visited.append((event["attrs"]["spot"], anc.steps_done[1], anc.steps_done[2]))

    engine.subscribe(watch)
    try:
        assert engine.run_blocking(resume=True) == "finished", engine.reason
    finally:
        station.close()
    k0 = len(before)
    assert any(f"survey resumed: {k0} spots done, continuing with spot {k0}" in m
               for m in lines)
    assert any("moving it back to spot" in m for m in lines)
    rows = _rows(data)
    assert [int(r["spot"]) for r in rows] == list(range(n))  # each spot once, none lost
    survey = ContactSurvey.from_parameters(yaml.safe_load(plan.read_text())["steps"][0][
        "parameters"])
    planned = [survey.raster(k) for k in range(n)]
    assert [[int(r["x_steps"]), int(r["y_steps"])] for r in rows] == planned
    # the lab's needle stood at each resumed spot's planned place (the piezo's own count)
    assert [(k, x, y) for k, x, y in visited] == [(k, *planned[k]) for k in range(k0, n)]
    # and what was measured there is that place's spot
    step_m = Contact.step_size_m(survey.step_voltage_V)
    for r in rows[k0:]:
        cell = lab.contact.spots.cell(int(r["x_steps"]) * step_m, int(r["y_steps"]) * step_m)
        kind = lab.contact.spots.spot(cell).kind if cell != (0, 0) else "superconducting"
        expected = {"open": {"open"}, "short": {"short"}, "drifting": {"drifting"},
                    "normal": {"none"}}.get(kind, {"ballistic", "intermediate", "thermal"})
        assert r["regime"] in expected, (r, kind)


def test_a_dropped_link_costs_a_remeasured_spot_not_the_survey(tmp_path):
    from pcsdaq.runner.engine import RunEngine
    from pcsdaq.runner.launch import open_station
    from pcsdaq.runner.plan import PlanStep

    station, lab, _ = open_station(packaged_config("station-sim.yaml"), sim="inprocess",
                                   time_scale=0)
    lab.cryostat.set_temperature(0.45)
    engine = RunEngine(station, tmp_path)
    params = dict(yaml.safe_load(EXAMPLE.read_text())["steps"][0]["parameters"])
    params.update(n_spots=2, series_fractions="0.5", series_points=40, n_points=81)
    engine.queue = [PlanStep(ContactSurvey.NAME, params)]
    injected = []

    def inject(event):
        if event["type"] == "segment" and event["name"] == "spot001_approach" and not injected:
            lab.inject("drop", "sr830", count=1)
            injected.append(True)

    engine.subscribe(inject)
    try:
        assert engine.run_blocking() == "finished", engine.reason
    finally:
        station.close()
    rows = _rows(tmp_path)
    assert [int(r["spot"]) for r in rows] == [0, 1]
    (run_file,) = tmp_path.glob("*_contact_survey.h5")
    decisions = read_run(run_file).metadata["survey_spot001"]["decisions"]
    words = [d["decision"] for d in decisions]
    assert words[:2] == ["fault", "measure the spot again"]
    assert "link" in decisions[0]["reason"] and rows[1]["regime"] == "open"


def test_where_a_resumed_survey_finds_its_needle_and_when_it_stops_for_the_budget():
    from types import SimpleNamespace

    from pcsdaq.procedures.survey import typical_spot_s

    survey = ContactSurvey.from_parameters({})
    survey.needle_xy = [300, 100]
    fresh = SimpleNamespace(station=SimpleNamespace(fresh_sim_lab=True))
    kept = SimpleNamespace(station=SimpleNamespace(fresh_sim_lab=False))
    assert survey.needle_on_resume(fresh)[0] == [0, 0]  # a lab the run made: at the origin
    assert survey.needle_on_resume(kept)[0] == [300, 100]  # a positioner keeps its place
    survey.resume_needle_at = "origin"
    assert survey.needle_on_resume(kept) == ([0, 0], "resume_needle_at = origin")
    survey.resume_needle_at = "nowhere"
    from pcsdaq.station import load_station_config
    problems = survey.validate(load_station_config(packaged_config("station-sim.yaml")))
    assert any(p.startswith("resume_needle_at = 'nowhere'; allowed: auto, origin, kept")
               for p in problems)
    # a spot is not begun when less than the median spot's lab time is left
    assert typical_spot_s([{"lab_time_s": 100.0}, {"lab_time_s": 250.0}]) == 0.0
    spots = [{"lab_time_s": t} for t in (100.0, 1600.0, 1700.0, 3700.0)]
    assert typical_spot_s(spots) == pytest.approx(800.0)  # median of 100, 1500, 100, 2000
