"""pcsdaq drivers skip pymeasure's guarded attribute lookup; that is only safe while no
driver declares a pymeasure dynamic property (whose reserved names the guard protects)."""

from __future__ import annotations

from inspect import getmembers

import pytest
from pymeasure.instruments.common_base import DynamicProperty

from pcsdaq.driver_support import StationDriver
from pcsdaq.drivers import registry


@pytest.mark.parametrize("name", registry.names())
def test_no_driver_declares_a_dynamic_property(name):
    cls = registry.driver_class(name)
    assert issubclass(cls, StationDriver)
    dynamic = [attr for attr, value in getmembers(cls) if isinstance(value, DynamicProperty)]
    assert dynamic == [], f"{name} declares dynamic properties {dynamic}: restore pymeasure's " \
        "CommonBase.__getattribute__ for it (see pcsdaq.driver_support.StationDriver)"
    assert cls.__getattribute__ is object.__getattribute__

