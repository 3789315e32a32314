"""Instrument dashboard: the station's state, read off the GUI thread, never blocking it.

A QTimer on the GUI thread asks a worker (QThreadPool) for a reading; the worker takes the
station lock with a short timeout (the engine holds it around each point, so a reading slips
in between points or is skipped), reads each role and posts the values back by a signal.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtWidgets

if TYPE_CHECKING:
    from pcsdaq.station import Station

#: dashboard fields: key -> label
FIELDS = {"temperature": "Temperature", "setpoint": "Setpoint", "heater": "Heater",
          "field": "Field", "magnet": "Magnet", "contact": "Contact R", "diameter": "Diameter",
          "piezo": "Piezo steps", "overload": "Lock-in overload"}


def read_station(station: Any, lock_timeout_s: float = 0.2) -> dict[str, Any] | None:
    """One reading of the station as display strings, or None when the lock was busy.

    ``connections`` maps role -> "ok" or the error of its last query."""
    if not station.lock.acquire(timeout=lock_timeout_s):
        return None
    values: dict[str, Any] = {}
    conn: dict[str, str] = {}

    def attempt(role: str, fn) -> None:
        if getattr(station, role, None) is None:
            return
        try:
            fn(getattr(station, role))
            conn.setdefault(role, "ok")
        except Exception as exc:  # shown on the dashboard, never raised into Qt
            conn[role] = f"{type(exc).__name__}: {exc}"

    try:
        def therm(t):
            values["temperature"] = f"{t.read_temperature():.4g} K"
            values["setpoint"] = f"{t.get_setpoint():.4g} K"
            values["heater"] = f"{t.heater_output():.3g} %"

        def magnet(m):
            values["field"] = f"{m.read_field():+.4f} T"
            values["magnet"] = m.state()

        def lockin(li):
            x, _ = li.read_xy()
            from pcsdaq.procedures.bias_sweep import contact_resistance

            r = contact_resistance(x, li)
            values["contact"] = f"{r:.4g} Ohm" if math.isfinite(r) else "open"
            try:
                from pcsdaq.physics.wexler import contact_diameter

                values["diameter"] = f"{contact_diameter(r) * 1e9:.3g} nm (paper)"
            except ValueError:
                values["diameter"] = "-"
            values["overload"] = "YES" if li.is_overloaded() else "no"

        def positioner(p):
            values["piezo"] = str(getattr(p, "steps_total", "?"))

        attempt("thermometer", therm)
        attempt("magnet", magnet)
        attempt("lockin", lockin)
        attempt("positioner", positioner)
        for role in ("bias", "dmm"):
            if getattr(station, role, None) is not None:
                conn.setdefault(role, "ok")
    finally:
        station.lock.release()
    values["connections"] = conn
    return values


class _Reader(QtCore.QRunnable):
    def __init__(self, dashboard: Dashboard) -> None:
        super().__init__()
        self.dashboard = dashboard

    def run(self) -> None:
        values = read_station(self.dashboard.station)
        self.dashboard.reading.emit(values if values is not None else {})


class Dashboard(QtWidgets.QGroupBox):
    """Live instrument values and the connection state of each role."""

    reading = QtCore.pyqtSignal(dict)

    def __init__(self, station: Station | None = None, interval_ms: int = 2000,
                 parent=None) -> None:
        super().__init__("Instruments", parent)
        self.station = station
        self.labels: dict[str, QtWidgets.QLabel] = {}
        form = QtWidgets.QFormLayout(self)
        for key, text in FIELDS.items():
            self.labels[key] = QtWidgets.QLabel("-")
            form.addRow(text, self.labels[key])
        self.connections = QtWidgets.QLabel("-")
        self.connections.setWordWrap(True)
        form.addRow("Connections", self.connections)
        self._busy = False
        self.reading.connect(self._show,  # type: ignore[call-arg]  # PyQt6 stubs lack the type
                             QtCore.Qt.ConnectionType.QueuedConnection)
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.refresh)
        if station is not None:
            self.timer.start(interval_ms)

    def refresh(self) -> None:
        """Ask the worker pool for a reading (skipped while one is pending)."""
        if self.station is None or self._busy:
            return
        self._busy = True
        pool = QtCore.QThreadPool.globalInstance()
        assert pool is not None  # Qt's application-wide pool always exists
        pool.start(_Reader(self))

    def _show(self, values: dict) -> None:
        self._busy = False
        if not values:
            return  # the lock was busy: keep the last values
        for key, label in self.labels.items():
            if key in values:
                label.setText(str(values[key]))
        conn = values.get("connections", {})
        self.connections.setText(", ".join(f"{r}: {s}" for r, s in conn.items()))

    def show_point(self, row: dict) -> None:
        """During a run, take the values of the engine's points instead of querying."""
        t = row.get("temperature_K")
        if t is not None and t == t:
            self.labels["temperature"].setText(f"{t:.4g} K")
        b = row.get("field_T")
        if b is not None and b == b:
            self.labels["field"].setText(f"{b:+.4f} T")
        r = row.get("dVdI_Ohm", row.get("R_Ohm"))
        if r is not None and r == r:
            self.labels["contact"].setText(f"{r:.4g} Ohm")
