"""The declarative limit table of the procedures (REQUIRED_ROLES, ROLE_LIMITS): every entry
names a real parameter and a limit some driver of that role enforces, and the table refuses
what the hand-written checks refused (no I/O)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from pcsdaq.drivers import registry
from pcsdaq.procedures import PROCEDURES
from pcsdaq.procedures.base import ROLE_LIMIT_NAMES, role_limit_problems
from pcsdaq.station_schema import load_station_config, packaged_config


def _station():
    return load_station_config(packaged_config("station-sim.yaml"))


def _role_limit_keys(role: str) -> set[str]:
    keys: set[str] = set()
    for entry in registry.entries().values():
        if role in entry.roles:
            keys |= set(getattr(entry.cls, "LIMITS", {}))
    return keys


@pytest.mark.parametrize("name", sorted(PROCEDURES))
def test_every_table_entry_is_a_parameter_and_a_driver_limit(name):
    cls = PROCEDURES[name]
    specs = cls.parameter_specs()
    for param, (role, key) in cls.ROLE_LIMITS.items():
        assert param in specs, f"{name}: ROLE_LIMITS names {param}, not a parameter"
        assert key in _role_limit_keys(role), f"{name}: no {role} driver enforces {key}"
        assert (role, key) in ROLE_LIMIT_NAMES, f"{(role, key)} has no name for messages"
    assert len(set(cls.REQUIRED_ROLES)) == len(cls.REQUIRED_ROLES)


@pytest.mark.parametrize("name", sorted(PROCEDURES))
def test_defaults_pass_on_the_sim_station(name):
    assert PROCEDURES[name]().validate(_station()) == []


@pytest.mark.parametrize("name", sorted(PROCEDURES))
def test_each_limited_parameter_above_its_limit_is_named(name):
    """Every parameter of the table, set above the station's limit (within what the
    parameter itself accepts), is refused with its name and the limit's."""
    cls = PROCEDURES[name]
    station = _station()
    specs = cls.parameter_specs()
    tried = 0
    for param, (role, key) in cls.ROLE_LIMITS.items():
        rc = station.roles.get(role)
        if rc is None or key not in rc.safety:
            continue
        limit = float(rc.safety[key])
        value = limit * 1.5 if limit >= 1 else limit * 2
        spec = specs[param]
        if getattr(spec, "maximum", None) is not None and value > spec.maximum:
            continue  # the parameter's own range refuses it before the station's limit
        proc = cls()
        current = getattr(proc, param)
        setattr(proc, param, [value] if isinstance(current, list) else
                (int(math.ceil(value)) if isinstance(current, int) else value))
        problems = proc.validate(station)
        label = f"{param}[0]" if isinstance(current, list) else param
        what = ROLE_LIMIT_NAMES[(role, key)][0]
        assert any(p.startswith(label + " = ") and what in p for p in problems), problems
        tried += 1
    if cls.ROLE_LIMITS:
        assert tried, f"{name}: no table entry could be exceeded on the sim station"


def test_optional_role_needed_only_when_used():
    """An R(T) log without DC current or fields needs neither a bias source nor a magnet;
    with them it names the missing role (once)."""
    station = _station()
    rt = PROCEDURES["rt_log"]()
    roles = dict(station.roles)
    for role in ("bias", "magnet"):
        roles.pop(role, None)
    bare = dataclasses.replace(station, roles=roles)
    rt.current_A, rt.fields_T = 0.0, [0.0]
    assert role_limit_problems(rt, bare) == []
    rt.current_A, rt.fields_T = 1e-4, [1.0, 2.0]
    problems = role_limit_problems(rt, bare)
    assert sum("needs a bias role" in p for p in problems) == 1, problems
    assert sum("needs a magnet role" in p for p in problems) == 1, problems


def test_not_stated_condition_needs_no_role():
    """A temperature series whose field is not stated (NaN) needs no magnet."""
    station = _station()
    roles = {k: v for k, v in station.roles.items() if k != "magnet"}
    bare = dataclasses.replace(station, roles=roles)
    ts = PROCEDURES["temperature_series"]()
    assert math.isnan(ts.field_T)
    assert ts.validate(bare) == []
    ts.field_T = 2.0
    assert any("needs a magnet role" in p for p in ts.validate(bare))
