"""Transport faults of the simulated lab: what a flaky cable or a hung instrument does.

``latency`` (``delay_s`` per reply, real seconds), ``no_reply`` (the next ``count`` queries
get no answer: the client times out), ``drop`` (the connection is closed: in-process, every
later call on that adapter raises ConnectionError until the station reconnects), ``garble``
(the next ``count`` replies arrive corrupted). Each applies to one emulator (``target``) or
to all (target None), for ``count`` events (None: until cleared). Used by the in-process
adapter and the TCP server alike.
"""

from __future__ import annotations

import threading
import time
from typing import Any

TRANSPORT_FAULTS = ("latency", "no_reply", "drop", "garble")
#: faults of the physics the lab can inject (SimLab.inject)
PHYSICAL_FAULTS = ("quench", "heater_open", "thermometer_invalid", "overload", "unlock")
#: every fault name ``pcsdaq sim serve --fault`` accepts
ALL_FAULTS = PHYSICAL_FAULTS + TRANSPORT_FAULTS


class TransportFaults:
    """The active transport faults of a lab (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, dict[str, Any]] = {}

    def add(self, fault: str, target: str | None = None, count: int | None = None,
            **params: Any) -> None:
        """Activate ``fault`` for ``target`` (None: every instrument) for ``count`` events."""
        if fault not in TRANSPORT_FAULTS:
            raise ValueError(f"unknown transport fault {fault!r}; known: "
                             f"{', '.join(TRANSPORT_FAULTS)}")
        if count is None and fault in ("no_reply", "drop", "garble"):
            count = 1
        with self._lock:
            self._faults[fault] = {"target": target, "count": count, **params}

    def clear(self) -> None:
        """Remove every transport fault."""
        with self._lock:
            self._faults.clear()

    def take(self, fault: str, name: str) -> dict[str, Any] | None:
        """The fault's parameters if it applies to ``name`` now (one event is used up)."""
        with self._lock:
            spec = self._faults.get(fault)
            if spec is None or spec["target"] not in (None, name):
                return None
            if spec["count"] is not None:
                spec["count"] -= 1
                if spec["count"] <= 0:
                    del self._faults[fault]
            return spec

    def reply(self, name: str, reply: str | None) -> str | None:
        """What the client receives for ``reply`` from emulator ``name``."""
        if reply is None:
            return None
        latency = self.take("latency", name)
        if latency is not None:
            time.sleep(float(latency.get("delay_s", 0.1)))
        if self.take("no_reply", name) is not None:
            return None
        if self.take("garble", name) is not None:
            half = len(reply) // 2
            return reply[:half] + "\x15#?" + reply[half + 1:]
        return reply

    def drop(self, name: str) -> bool:
        """True when the connection to ``name`` is to be dropped now."""
        return self.take("drop", name) is not None
