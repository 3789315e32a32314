"""Every driver that claims a role keeps that role's contract (pcsdaq.roles): the Protocol's
methods with its parameter names, its attributes, and for a lock-in the ranges procedures
may ask for."""

from __future__ import annotations

import inspect
import typing

import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.drivers import registry
from pcsdaq.roles import (
    LOCKIN_FILTER_SLOPES_DB,
    LOCKIN_SENSITIVITY_V,
    LOCKIN_SINE_V,
    LOCKIN_TIME_CONSTANT_S,
    ROLE_PROTOCOLS,
)


def _protocol_members(protocol: type) -> tuple[dict[str, inspect.Signature], set[str]]:
    """(method name -> signature, attribute names) of a role Protocol and its bases."""
    methods: dict[str, inspect.Signature] = {}
    attributes: set[str] = set()
    for base in reversed(protocol.__mro__):
        if base is object or not getattr(base, "_is_protocol", False):
            continue
        attributes |= set(getattr(base, "__annotations__", {}))
        for name, value in vars(base).items():
            if inspect.isfunction(value) and not name.startswith("_"):
                methods[name] = inspect.signature(value)
    return methods, attributes


def _declared_attributes(cls: type) -> set[str]:
    names: set[str] = set()
    for base in cls.__mro__:
        names |= set(getattr(base, "__annotations__", {}))
        names |= set(vars(base))
    return names


CLAIMS = [(name, role) for name, entry in registry.entries().items() for role in entry.roles]


def test_every_role_has_a_driver_and_every_claim_is_checked():
    assert {role for _, role in CLAIMS} == set(ROLE_PROTOCOLS)


@pytest.mark.parametrize(("driver", "role"), CLAIMS)
def test_driver_keeps_its_role_protocol(driver, role):
    cls = registry.driver_class(driver)
    methods, attributes = _protocol_members(ROLE_PROTOCOLS[role])
    for name, wanted in methods.items():
        method = getattr(cls, name, None)
        assert callable(method), f"{driver} lacks {role} method {name}()"
        have = inspect.signature(method).parameters
        for param in list(wanted.parameters)[1:]:  # after self
            assert param in have, f"{driver}.{name}() lacks parameter {param!r} of the role"
        wanted_return = typing.get_type_hints(getattr(ROLE_PROTOCOLS[role], name)).get("return")
        if wanted_return is float:  # e.g. BiasSource.set_current returns what was sourced
            got = inspect.signature(method).return_annotation
            assert got in (float, "float"), f"{driver}.{name}() must return float"
    missing = attributes - _declared_attributes(cls)
    assert not missing, f"{driver} does not declare the {role} attributes {sorted(missing)}"


def test_the_sr830_covers_the_lockin_role_ranges():
    from pcsdaq.drivers import sr830

    assert sr830.SINE_MIN_V <= LOCKIN_SINE_V[0] and sr830.SINE_MAX_V >= LOCKIN_SINE_V[1]
    assert min(sr830.TIME_CONSTANTS_S) <= LOCKIN_TIME_CONSTANT_S[0]
    assert max(sr830.TIME_CONSTANTS_S) >= LOCKIN_TIME_CONSTANT_S[1]
    assert min(sr830.SENSITIVITIES_V) <= LOCKIN_SENSITIVITY_V[0] * (1 + 1e-12)
    assert max(sr830.SENSITIVITIES_V) >= LOCKIN_SENSITIVITY_V[1]
    assert tuple(sr830.SLOPES_DB) == LOCKIN_FILTER_SLOPES_DB


def test_opened_station_roles_are_instances_of_their_protocols():
    from pcsdaq.sim.lab import SimLab
    from pcsdaq.station import Station, load_station_config, packaged_config

    config = load_station_config(packaged_config("station-sim.yaml"))
    lab = SimLab.from_station_config(config, clock=VirtualClock())
    station = Station.open(config, adapter_factory=lab.adapter_factory(), clock=lab.clock)
    try:
        for role, protocol in ROLE_PROTOCOLS.items():
            assert isinstance(getattr(station, role), protocol), role
    finally:
        station.close()


def test_no_procedure_imports_a_driver_module():
    """Roles, not models: procedures reach instruments only through pcsdaq.roles."""
    import ast
    from pathlib import Path

    import pcsdaq.procedures

    for path in Path(pcsdaq.procedures.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                assert not name.startswith("pcsdaq.drivers"), f"{path.name} imports {name}"
