"""Instrument drivers, one class per model, in the pymeasure Instrument idiom.

``from pcsdaq.drivers import SR830`` works for every driver the registry knows
(:mod:`pcsdaq.drivers.registry`: each driver class declares its roles, emulator and models;
every driver table is derived from those declarations). The driver modules are imported on
the first such lookup, not when this package is imported.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("_") or name == "registry":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    registry = importlib.import_module(f"{__name__}.registry")
    if name in registry.entries():
        return registry.driver_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    registry = importlib.import_module(f"{__name__}.registry")
    return sorted(list(globals()) + registry.names())
