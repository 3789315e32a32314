"""Every example plan in configs/ is a test against the simulator's truth (issue 17).

Each plan runs on the in-process simulated lab (virtual clock) with a ballistic, an
intermediate and a thermal contact; the analysis (``analyze_run``, what ``pcsdaq analyze``
stores) is compared with what the simulator drew: Tc from R(T) within 0.7 K at every
field, Delta(0) within 3 % and the BCS Tc within 0.5 K for a ballistic contact, Hc2 within
10 %, I_c(T) within 10 % for intermediate and thermal contacts, and every segment at the
temperature and field its step states.

I_c is the switching current measured across each dip (pcsdaq.analysis.switching: where V(I)
has made half its jump, the simulator's I_c). Hc2 is what the analysis reports as Hc2: from
Delta(H) for a ballistic contact; for an intermediate or thermal one the Delta(H) fit of
gaps fitted below the dips is reported as failed with its reason, and Hc2 is the one from
R(T) at several fields.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pcsdaq.cli import main
from pcsdaq.physics import bcs
from pcsdaq.storage import read_run

from .conftest import CONFIGS, EXAMPLE_PLANS


def _tc_in_field(truth: dict, field_T: float) -> float:
    return bcs.tc_in_field(truth["tc_K"], field_T, truth["hc2_T"])


# --- the conditions every segment ran at -------------------------------------------------

def test_every_segment_runs_at_the_conditions_its_step_states(plan_run):
    """Temperature series at their stated field, field series at their stated temperature,
    R(T) at each stated field; every segment records what it was asked for."""
    checked = 0
    for i, step in enumerate(plan_run.plan.steps):
        p = step.parameters
        run = read_run(plan_run.files[i])
        assert run.status == "finished", (step.name, run.status)
        for seg in run.segments:
            cols, attrs = seg.columns, seg.attrs
            if step.procedure == "temperature_series":
                sp = p["setpoints_K"][attrs["index"]]
                tol = max(3 * p.get("tolerance_K", 0.02), 0.05)
                assert attrs["stated_temperature_K"] == sp
                assert attrs["stated_field_T"] == p["field_T"]
                assert np.all(np.abs(cols["temperature_K"] - sp) <= tol), (seg.name, sp)
                assert np.all(np.abs(cols["field_T"] - p["field_T"]) <= 1e-3), seg.name
            elif step.procedure == "field_series":
                b = p["fields_T"][attrs["index"]]
                tol = max(3 * p.get("tolerance_K", 0.02), 0.05)
                assert attrs["stated_field_T"] == b
                assert attrs["stated_temperature_K"] == p["temperature_K"]
                assert np.all(np.abs(cols["temperature_K"] - p["temperature_K"]) <= tol), \
                    (seg.name, p["temperature_K"], cols["temperature_K"].min())
                assert np.all(np.abs(cols["field_T"] - b) <= 1e-3), seg.name
            elif step.procedure == "rt_log":
                fields = p.get("fields_T", [0.0])
                k = int(seg.name[2:4])
                assert attrs["stated_field_T"] == fields[k]
                assert np.all(np.abs(cols["field_T"] - fields[k]) <= 1e-3), seg.name
                t = cols["temperature_K"]
                lo, hi = sorted((p["start_K"], p["end_K"]))
                assert t.min() <= lo + 0.1 * (hi - lo) and t.max() >= hi - 0.1 * (hi - lo)
            else:
                continue
            checked += 1
    assert checked >= 3


def test_bias_range_asked_in_mV_reaches_it(plan_run):
    """A sweep asked for max_bias_mV spans that bias (within 5 %), whatever the contact's
    zero-bias resistance, and records the resistance and the current it used."""
    seen = 0
    for i, step in enumerate(plan_run.plan.steps):
        if "max_bias_mV" not in step.parameters:
            continue
        for seg in read_run(plan_run.files[i]).segments:
            a = seg.attrs
            assert a["max_bias_mV"] == step.parameters["max_bias_mV"]
            assert a["contact_resistance_at_start_ohm"] > 0
            v = np.abs(seg.columns["V_dc_V"]) * 1e3
            assert v.max() == pytest.approx(a["max_bias_mV"], rel=0.05), seg.name
            assert np.abs(seg.columns["bias_set_A"]).max() == pytest.approx(a["max_current_A"])
            seen += 1
    if seen == 0:
        pytest.skip("no sweep of this run asks for a bias in mV")


# --- R(T): Tc at every field, Hc2 ---------------------------------------------------------

def test_tc_from_rt_at_every_field(plan_run, request):
    # even a ballistic contact's R(T) has two features (the drop at Tc, then the rise of
    # its zero-bias R below ~Tc/2): the two-line construction needs the transition located
    (i,) = plan_run.steps("rt_log")
    fields = plan_run.plan.steps[i].parameters.get("fields_T", [0.0])
    rt = plan_run.analysis(i)["rt"]
    assert len(rt) == len(fields)
    for item, b in zip(rt, fields):
        tc = item.get("tc_two_slope_K", item.get("tc_K"))  # the paper's construction
        assert tc is not None, item
        assert tc == pytest.approx(_tc_in_field(plan_run.truth, b), abs=0.7), \
            (item["segment"], b)


def _hc2_values(results: dict) -> list[float]:
    """Every Hc2(0) the analysis reports for a run (any key naming hc2 with a number)."""
    found = []

    def walk(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if "hc2" in k.lower() and "err" not in k.lower() and isinstance(v, int | float):
                    found.append(float(v))
                else:
                    walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(results)
    return found


def test_hc2_from_rt_at_several_fields(plan_run, request):
    (i,) = plan_run.steps("rt_log")
    if len(plan_run.plan.steps[i].parameters.get("fields_T", [0.0])) < 2:
        pytest.skip("R(T) at one field only")
    values = _hc2_values({"rt": plan_run.analysis(i)["rt"],
                          **{k: v for k, v in plan_run.analysis(i).items() if k != "rt"}})
    assert values, "the R(T) analysis reports no Hc2"
    for v in values:
        assert v == pytest.approx(plan_run.truth["hc2_T"], rel=0.10)


def test_hc2_from_the_gap_in_field(plan_run):
    """Delta(H) at base temperature fitted to Delta(0) sqrt(1 - H/Hc2) gives the drawn Hc2
    (10 %), or is reported as failed with its reason and no number; then (gaps below the
    dips of a contact that is not ballistic) the Hc2 the analysis reports is R(T)'s."""
    steps = plan_run.steps("field_series")
    if not steps or len(plan_run.plan.steps[steps[0]].parameters["fields_T"]) < 3:
        pytest.skip("no field series with three or more fields")
    fit = plan_run.analysis(steps[0]).get("field", {})
    truth = plan_run.truth["hc2_T"]
    if plan_run.regime == "ballistic":
        assert not fit.get("failed"), fit
    if fit.get("failed"):
        assert fit.get("hc2_T") is None and "Hc2" in fit["failed"], fit
        (i,) = plan_run.steps("rt_log")
        assert len(plan_run.plan.steps[i].parameters.get("fields_T", [0.0])) >= 2
        hc2 = plan_run.analysis(i)["hc2"]
        assert hc2.get("hc2_0_T") == pytest.approx(truth, rel=0.10), hc2
    else:
        assert fit["hc2_T"] == pytest.approx(truth, rel=0.10), fit


# --- spectra: Delta(0), BCS Tc, I_c(T), no wrong result without a verdict -----------------

def test_ballistic_gap_and_bcs_tc(plan_run, request):
    if plan_run.regime != "ballistic":
        pytest.skip("Delta(0) and the BCS Tc are checked for ballistic contacts")
    (i,) = plan_run.steps("temperature_series")
    # a spectrum above Tc has no gap to fit: the verdicts leave it out of the BCS fit
    fit = plan_run.analysis(i)["bcs"]
    assert fit["delta0_meV"] == pytest.approx(plan_run.truth["delta0_meV"], rel=0.03)
    assert fit["tc_K"] == pytest.approx(plan_run.truth["tc_K"], abs=0.5)


def _critical_currents(spectrum: dict, segment) -> list[float]:
    """|I_c| in A the analysis reports for a spectrum: an explicit critical current, or the
    current the segment carried at each dip the analysis found (``dips_mV``, issue 11)."""
    for key in ("critical_current_A", "ic_A", "I_c_A", "critical_currents_A"):
        if spectrum.get(key) is not None:
            v = spectrum[key]
            return [abs(float(x)) for x in (v if isinstance(v, list | tuple) else [v])]
    dips = spectrum.get("dips_mV") or []
    if not dips:
        return []
    v, i = segment.columns["V_dc_V"] * 1e3, segment.columns["I_dc_A"]
    order = np.argsort(v)
    return [abs(float(np.interp(d, v[order], i[order]))) for d in dips]


def _current_step_A(segment) -> float:
    """The sweep's current step near zero bias (A): the smallest nonzero |I_dc|."""
    i = np.abs(segment.columns["I_dc_A"])
    return float(np.min(i[i > 0]))


def test_critical_current_from_the_dips(plan_run):
    """I_c(T, B) at the dips (the switching current measured across them) within 10 % of
    the drawn one, for every spectrum whose drawn I_c the sweep can place (two current
    steps or more: below that the switch lies between zero and the first step)."""
    if plan_run.regime == "ballistic":
        pytest.skip("a ballistic contact has no critical-current dips")
    checked = 0
    for i in plan_run.steps("temperature_series") + plan_run.steps("field_series"):
        segments = {seg.name: seg for seg in read_run(plan_run.files[i]).segments}
        for s in plan_run.analysis(i)["spectra"]:
            truth = plan_run.contact.critical_current_A(s["temperature_K"], s["field_T"])
            if truth < 2.0 * _current_step_A(segments[s["segment"]]):
                continue
            got = _critical_currents(s, segments[s["segment"]])
            assert got, f"{s['segment']}: no critical current reported"
            assert np.median(got) == pytest.approx(truth, rel=0.10), s["segment"]
            checked += 1
    assert checked >= 4


def test_no_wrong_gap_without_a_verdict(plan_run, request):
    """Each spectrum's gap is within 10 % of the drawn Delta(T, B), or the analysis says it
    is not to be trusted (a verdict other than ``good``, an error); a BCS fit reported as a
    result has the drawn Tc."""
    truth = plan_run.truth
    for i in plan_run.steps("temperature_series") + plan_run.steps("field_series"):
        for s in plan_run.analysis(i)["spectra"]:
            if "delta_meV" not in s or s.get("verdict", "good") != "good":
                continue
            want = float(bcs.gap_meV(s["temperature_K"], truth["tc_K"], truth["delta0_meV"],
                                     field_T=s["field_T"], hc2_T=truth["hc2_T"]))
            assert s["delta_meV"] == pytest.approx(want, rel=0.10, abs=0.05), s["segment"]
    for i in plan_run.steps("temperature_series"):
        fit = plan_run.analysis(i).get("bcs", {})
        if "tc_K" in fit and not fit.get("failed") and "error" not in fit:
            assert fit["tc_K"] == pytest.approx(truth["tc_K"], abs=0.5)


# --- the real example files ---------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLE_PLANS)
def test_example_plan_check_states_every_condition(name, capsys):
    """`pcsdaq run PLAN --check` (on the sim station) prints each step's temperature and
    field and has nothing inherited to warn about."""
    code = main(["run", str(CONFIGS / name), "--station", str(CONFIGS / "station-sim.yaml"),
                 "--check"])
    out = capsys.readouterr().out
    assert code == 0
    assert "warning" not in out, out
    assert out.count("    T: ") == out.count("    B: ") == out.count("(instrument time)")


def test_overnight_example_states_its_conditions(capsys):
    main(["run", str(CONFIGS / "plan-overnight.example.yaml"), "--station",
          str(CONFIGS / "station-sim.yaml"), "--check"])
    out = capsys.readouterr().out
    series = out[out.index("Delta(T) from 0.5 to 20 K"):]
    assert "B: 0 T (stated)" in series.split("step 4")[0]
    assert "T: 0.5 K (stated)" in out[out.index("Delta(H) at base"):]


def test_the_truth_is_what_the_simulator_drew(plan_run):
    """The truth the tests compare with is the contact the run measured, of its regime."""
    assert plan_run.truth["regime"] == plan_run.regime
    assert math.isfinite(plan_run.truth["tc_K"]) and plan_run.truth["tc_K"] > 5.0


def test_readme_shows_what_check_prints_for_the_overnight_plan(repo_root, capsys):
    main(["run", str(CONFIGS / "plan-overnight.example.yaml"), "--check"])
    out = capsys.readouterr().out
    assert out in (repo_root / "README.md").read_text()
