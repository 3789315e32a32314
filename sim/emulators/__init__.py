"""One emulator per instrument model: parse the real command set, answer as the box does.

Every :class:`~pcsdaq.sim.emulators.base.Emulator` subclass in a public module of this
package that sets its own ``name`` is an emulator of the simulated lab (found on first use);
:func:`register_emulator` adds another (a test's fake instrument). A driver names its
emulator in its ``EMULATOR`` attribute (:mod:`pcsdaq.drivers.registry`).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

_classes: dict[str, type] = {}
_loaded = False
_lock = threading.Lock()


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        from pcsdaq.sim.emulators.base import Emulator

        found: dict[str, type] = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if info.name.startswith("_") or info.name == "base":
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            for obj in vars(module).values():
                if (isinstance(obj, type) and issubclass(obj, Emulator)
                        and obj.__module__ == module.__name__ and "name" in vars(obj)):
                    found[obj.name] = obj
        _classes.update({**found, **_classes})
        _loaded = True


def emulator_classes() -> dict[str, type]:
    """Emulator name (e.g. "sr830") -> class, built-in ones first, then registered ones."""
    _load_builtin()
    return dict(_classes)


def register_emulator(cls: type) -> type:
    """Add an emulator class (its ``name`` is the key); usable as a decorator. Returns it."""
    _load_builtin()
    _classes[cls.name] = cls  # type: ignore[attr-defined]
    return cls


def unregister_emulator(name: str) -> None:
    """Remove an emulator added with :func:`register_emulator`."""
    _load_builtin()
    _classes.pop(name, None)
