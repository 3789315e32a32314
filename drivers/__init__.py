"""Instrument drivers, one class per model, in the pymeasure Instrument idiom.

``from pcsdaq.drivers import SR830`` works for every name in :data:`DRIVERS`; modules are
imported on first use so that importing one driver does not import them all.
"""

from __future__ import annotations

import importlib

#: public class name -> module (inside pcsdaq.drivers) that defines it
DRIVERS: dict[str, str] = {
    "SR830": "sr830",
    "SR830AuxBias": "bias",
    "Keithley2000": "keithley2000",
    "Keithley6221": "keithley6221",
    "LakeShore372": "lakeshore372",
    "LakeShore336": "lakeshore336",
    "AMI430": "ami430",
    "MercuryIPS": "mercury_ips",
    "IPS120": "ips120",
    "ANC300": "anc300",
}

__all__ = sorted(DRIVERS)


def __getattr__(name: str):
    if name in DRIVERS:
        module = importlib.import_module(f"{__name__}.{DRIVERS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(DRIVERS))
