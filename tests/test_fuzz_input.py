"""Fuzzing what a user types: station files, plan files and command-line arguments.

Every bad input must end in one line on stderr and exit code 2: no traceback, no silent
acceptance of a non-finite number, nothing written. The CLI runs in-process through
``pcsdaq.cli.main``; example counts are kept small so the whole file takes seconds."""

import math
import os

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pcsdaq.cli import main
from pcsdaq.procedures import PROCEDURES
from pcsdaq.sim.faults import ALL_FAULTS
from pcsdaq.station import packaged_config

SIM = packaged_config("station-sim.yaml")
FUZZ = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
ANY_VALUE = st.one_of(
    NON_FINITE,
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.integers(-10**6, 10**6),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def run_cli(argv, capsys):
    """(exit code, stdout, stderr) of ``pcsdaq argv`` in-process; a traceback fails here."""
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused_in_one_line(code, err):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err


def listing(folder):
    return sorted(os.listdir(folder))


# --- station files ------------------------------------------------------------------------
def leaf_paths(data, prefix=()):
    """Every key path to a number in a loaded station file."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaf_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from leaf_paths(value, (*prefix, i))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield prefix


STATION = yaml.safe_load(SIM.read_text())
NUMERIC_PATHS = sorted(leaf_paths(STATION), key=str)


def put(data, path, value):
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@FUZZ
@given(path=st.sampled_from(NUMERIC_PATHS), value=ANY_VALUE)
def test_station_file_values(tmp_path_factory, capsys, path, value):
    folder = tmp_path_factory.mktemp("station")
    data = yaml.safe_load(SIM.read_text())
    put(data, path, value)
    station = folder / "station.yaml"
    station.write_text(yaml.safe_dump(data))
    code, _out, err = run_cli(["station", "check", str(station)], capsys)
    assert code in (0, 2) and "Traceback" not in err
    if isinstance(value, float) and not math.isfinite(value):
        assert_refused_in_one_line(code, err)
    if code == 2:
        assert_refused_in_one_line(code, err)
    assert listing(folder) == ["station.yaml"]


@FUZZ
@given(line=st.integers(0, SIM.read_text().count("\n") - 1))
def test_station_file_duplicate_lines(tmp_path_factory, capsys, line):
    """A key line repeated (a second value for the same key) is refused, never merged."""
    lines = SIM.read_text().splitlines()
    text = lines[line]
    if ":" not in text or text.strip().startswith("#") or text.strip().startswith("-"):
        return
    lines.insert(line + 1, text)
    folder = tmp_path_factory.mktemp("dup")
    station = folder / "station.yaml"
    station.write_text("\n".join(lines) + "\n")
    code, _out, err = run_cli(["station", "check", str(station)], capsys)
    assert_refused_in_one_line(code, err)


# --- plan files ----------------------------------------------------------------------------
PARAMS = sorted((name, key) for name, cls in PROCEDURES.items()
                for key in cls.parameter_specs())


@FUZZ
@given(which=st.sampled_from(PARAMS), value=ANY_VALUE)
def test_plan_parameter_values(tmp_path_factory, capsys, which, value):
    procedure, key = which
    folder = tmp_path_factory.mktemp("plan")
    plan = folder / "plan.yaml"
    plan.write_text(yaml.safe_dump({"station": str(SIM), "steps": [
        {"procedure": procedure, "parameters": {key: value}}]}))
    code, _out, err = run_cli(["run", str(plan), "--check"], capsys)
    assert code in (0, 2) and "Traceback" not in err
    if code == 2 or (isinstance(value, float) and not math.isfinite(value)):
        assert_refused_in_one_line(code, err)
    fractional = isinstance(value, float) and math.isfinite(value) and not value.is_integer()
    spec = PROCEDURES[procedure].parameter_specs()[key]
    if fractional and type(spec).__name__ == "IntegerParameter":
        assert_refused_in_one_line(code, err)  # never rounded
    assert listing(folder) == ["plan.yaml"]


@FUZZ
@given(doc=st.one_of(ANY_VALUE, st.dictionaries(
    st.sampled_from(["station", "steps", "data_dir", "name", "extra"]), ANY_VALUE, max_size=4)))
def test_plan_structure(tmp_path_factory, capsys, doc):
    folder = tmp_path_factory.mktemp("plan")
    plan = folder / "plan.yaml"
    plan.write_text(yaml.safe_dump(doc))
    code, _out, err = run_cli(["run", str(plan), "--check"], capsys)
    assert_refused_in_one_line(code, err)
    assert listing(folder) == ["plan.yaml"]


# --- command-line arguments ---------------------------------------------------------------
BAD_SCALES = st.one_of(NON_FINITE.map(str), st.floats(max_value=-1e-9).map(str),
                       st.floats(min_value=10000.5, allow_infinity=False).map(str),
                       st.text(alphabet="abcxyz,;", min_size=1, max_size=5))


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump({"station": str(SIM), "steps": [
        {"procedure": "bias_sweep", "parameters": {"n_points": 11}}]}))
    return path


@FUZZ
@given(scale=BAD_SCALES)
def test_time_scale_arguments(tmp_path_factory, capsys, plan_file, scale):
    folder = tmp_path_factory.mktemp("data")
    for argv in (["run", str(plan_file), "--sim", "inprocess", "--data", str(folder),
                  f"--time-scale={scale}"],
                 ["demo", "--data", str(folder), f"--time-scale={scale}"],
                 ["sim", "serve", f"--time-scale={scale}"],
                 ["gui", f"--time-scale={scale}"]):
        code, _out, err = run_cli(argv, capsys)
        assert_refused_in_one_line(code, err)
    assert listing(folder) == []


@FUZZ
@given(name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_:", min_size=1, max_size=12),
       seed=st.one_of(st.text(max_size=4), st.floats(allow_nan=True).map(str)))
def test_sim_serve_faults_and_seeds(capsys, name, seed):
    fault = name.partition(":")[0]
    if fault in ALL_FAULTS:
        argv = ["sim", "serve", "--fault", f"{fault}:no_such_emulator"]
    else:
        argv = ["sim", "serve", "--fault", name]
    code, _out, err = run_cli(argv, capsys)
    assert_refused_in_one_line(code, err)
    try:
        int(seed, 10)
    except ValueError:
        code, _out, err = run_cli(["sim", "serve", f"--seed={seed}"], capsys)
        assert_refused_in_one_line(code, err)


def test_data_folder_that_is_a_file_or_cannot_be_made(tmp_path, capsys, plan_file):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    for data in (a_file, a_file / "sub"):
        for argv in (["run", str(plan_file), "--sim", "inprocess", "--time-scale", "0"],
                     ["demo"], ["gui", "--sim"]):
            code, _out, err = run_cli([*argv, "--data", str(data)], capsys)
            assert_refused_in_one_line(code, err)
            assert "--data" in err
    assert a_file.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_data_folder(tmp_path, capsys, plan_file):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _out, err = run_cli(["run", str(plan_file), "--sim", "inprocess",
                                   "--time-scale", "0", "--data", str(ro)], capsys)
        assert_refused_in_one_line(code, err)
        assert listing(ro) == []
    finally:
        ro.chmod(0o755)


@FUZZ
@given(argv=st.lists(st.sampled_from(["--sim", "tcp", "inprocess", "--check", "--resume",
                                      "--station", "--data", "-x", "--bogus", "nan", "1e999",
                                      "--time-scale", "--", "-"]), max_size=5))
def test_run_argument_soup(tmp_path_factory, capsys, argv):
    """Odd combinations of run's options (no plan given, or given twice ...): exit 0 only
    for a plain --check, else one line and exit 2."""
    folder = tmp_path_factory.mktemp("soup")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code, _out, err = run_cli(["run", *argv], capsys)
    finally:
        os.chdir(cwd)
    assert_refused_in_one_line(code, err)
    assert listing(folder) == []


@FUZZ
@given(argv=st.lists(st.sampled_from(["--timeout", "nan", "-1", "1e9", "--data", "x", "--bogus",
                                      "check", "export", "--csv", "--out", "a.h5", "-"]),
                     min_size=1, max_size=4),
       command=st.sampled_from(["safe", "station", "export"]))
def test_other_commands_argument_soup(tmp_path_factory, capsys, argv, command):
    """safe / station / export with odd arguments, none naming a usable file: one line,
    exit 2, nothing written."""
    folder = tmp_path_factory.mktemp("soup")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code, _out, err = run_cli([command, *argv], capsys)
    finally:
        os.chdir(cwd)
    assert_refused_in_one_line(code, err)
    assert listing(folder) == []
