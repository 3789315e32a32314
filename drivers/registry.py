"""The one list of drivers: what each fills, which emulator stands in for it, which models.

Each driver class declares, where it is written:

* ``ROLES``: the station roles it can fill (``("lockin",)``; names of
  :data:`pcsdaq.roles.ROLE_PROTOCOLS`);
* ``EMULATOR``: the simulated lab's emulator that speaks its command set (``"sr830"``), or
  None when it has none (or rides on another role's link);
* ``MODELS``: the instrument models it talks to (``("SR830",)``);
* ``USES`` (optional): the role whose instrument it rides on instead of opening a link
  (the SR830's aux-output bias source uses the lock-in).

Every table is derived from these declarations: the station's role -> drivers table and its
``uses`` rule (:mod:`pcsdaq.station`), ``from pcsdaq.drivers import NAME``, the simulated
lab's driver -> emulator lookup (:meth:`pcsdaq.sim.lab.SimLab.emulator_for_driver`) and the
tests' tables. The built-in drivers are found by scanning this package (every public module,
every class declaring ``ROLES``) on first use; :func:`register` adds another (a test's fake
instrument, a lab's private driver) without editing any table.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass

from pcsdaq.driver_support import StationDriver
from pcsdaq.roles import ROLE_PROTOCOLS


@dataclass(frozen=True)
class DriverEntry:
    """What one driver class declares about itself."""

    name: str  #: class name, as a station file's ``driver:`` gives it
    cls: type[StationDriver]
    roles: tuple[str, ...]
    emulator: str | None
    models: tuple[str, ...]
    uses: str | None


_entries: dict[str, DriverEntry] = {}
_builtin_loaded = False
_load_lock = threading.Lock()


def _entry(cls: type) -> DriverEntry:
    if not issubclass(cls, StationDriver):
        raise ValueError(f"{cls.__name__} is not a StationDriver")
    roles = tuple(getattr(cls, "ROLES", ()))
    if not roles:
        raise ValueError(f"{cls.__name__} declares no ROLES")
    unknown = [r for r in roles if r not in ROLE_PROTOCOLS]
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown role {', '.join(unknown)}; allowed: "
                         f"{', '.join(ROLE_PROTOCOLS)}")
    uses = getattr(cls, "USES", None)
    if uses is not None and uses not in ROLE_PROTOCOLS:
        raise ValueError(f"{cls.__name__}: USES = {uses!r} is not a role")
    return DriverEntry(name=cls.__name__, cls=cls, roles=roles,
                       emulator=getattr(cls, "EMULATOR", None),
                       models=tuple(getattr(cls, "MODELS", ())), uses=uses)


def _load_builtin() -> None:
    """Import every public module of pcsdaq.drivers once and register its driver classes."""
    global _builtin_loaded
    if _builtin_loaded:
        return
    with _load_lock:
        if _builtin_loaded:
            return
        package = importlib.import_module("pcsdaq.drivers")
        found: dict[str, DriverEntry] = {}
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name.startswith("_") or info.name == "registry":
                continue
            module = importlib.import_module(f"pcsdaq.drivers.{info.name}")
            for obj in vars(module).values():
                if (isinstance(obj, type) and issubclass(obj, StationDriver)
                        and obj.__module__ == module.__name__ and "ROLES" in vars(obj)):
                    found[obj.__name__] = _entry(obj)
        # entries registered before the scan (tests) stay, after the built-in ones
        _entries.update({**found, **_entries})
        _builtin_loaded = True


def register(cls: type) -> type:
    """Add a driver class (usable as a decorator); it must declare ``ROLES``. Returns it."""
    _load_builtin()
    entry = _entry(cls)
    _entries[entry.name] = entry
    return cls


def unregister(name: str) -> None:
    """Remove a driver registered with :func:`register` (tests clean up with it)."""
    _load_builtin()
    _entries.pop(name, None)


def entries() -> dict[str, DriverEntry]:
    """Driver name -> its entry, built-in drivers first (module order), then registered ones."""
    _load_builtin()
    return dict(_entries)


def names() -> list[str]:
    """Names of every known driver class."""
    return list(entries())


def driver_class(name: str) -> type[StationDriver]:
    """The driver class called ``name``; KeyError naming the known ones if there is none."""
    return _lookup(name).cls


def role_drivers() -> dict[str, tuple[str, ...]]:
    """Role -> names of the drivers that can fill it (every role of pcsdaq.roles, in its
    order; a role no driver claims maps to an empty tuple)."""
    table: dict[str, list[str]] = {role: [] for role in ROLE_PROTOCOLS}
    for entry in entries().values():
        for role in entry.roles:
            table[role].append(entry.name)
    return {role: tuple(names) for role, names in table.items()}


def uses_drivers() -> dict[str, str]:
    """Driver name -> role it rides on, for drivers that open no link of their own."""
    return {e.name: e.uses for e in entries().values() if e.uses is not None}


def emulator_for(name: str) -> str | None:
    """The simulated lab's emulator name for driver ``name`` (None: it has none)."""
    return _lookup(name).emulator


def emulators() -> dict[str, str]:
    """Driver name -> emulator name, for every driver that has an emulator."""
    return {e.name: e.emulator for e in entries().values() if e.emulator is not None}


def drivers_for_model(model: str) -> list[str]:
    """Names of the drivers that talk to instrument ``model`` (e.g. "SR830", "336")."""
    return [e.name for e in entries().values() if model in e.models]


def _lookup(name: str) -> DriverEntry:
    known = entries()
    if name not in known:
        raise KeyError(f"unknown driver {name!r}; known: {', '.join(known)}")
    return known[name]
