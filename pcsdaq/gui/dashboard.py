"""Instrument dashboard: the station's state, read off the GUI thread, never blocking it.

A QTimer on the GUI thread asks a worker (QThreadPool) for a reading; the worker takes the
station lock with a short timeout (the engine holds it around each point, so a reading slips
in between points or is skipped), reads each role and posts the values back by a signal.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from PyQt6 import QtCore, QtWidgets

if TYPE_CHECKING:
    from pcsdaq.station import Station

#: dashboard fields: key -> label
FIELDS = {"temperature": "Temperature", "setpoint": "Setpoint", "heater": "Heater",
          "field": "Field", "magnet": "Magnet", "contact": "Contact R", "diameter": "Diameter",
          "piezo": "Piezo steps", "overload": "Lock-in overload"}


#: a contact above this (Ohm) is shown as "open" (the divider's reading of no contact)
OPEN_CONTACT_OHM = 1e9
#: which dashboard fields each role's reading fills (greyed when the role is lost)
ROLE_FIELDS = {"thermometer": ("temperature", "setpoint", "heater"),
               "magnet": ("field", "magnet"), "lockin": ("contact", "diameter", "overload"),
               "positioner": ("piezo",)}
#: a value not refreshed for this long (s) is greyed out as stale
STALE_AFTER_S = 10.0
#: the dashboard field where each alarm kind shows
ALARM_FIELDS = {"overload": "overload", "quench": "magnet", "heater": "heater",
                "thermometer": "temperature"}
STALE_STYLE = "color: #a0a0a0; font-style: italic"
ALARM_STYLE = "color: #b00020; font-weight: bold"


def contact_text(r_ohm: float) -> str:
    """'12.3 Ohm', or 'open' for no contact (infinite or above :data:`OPEN_CONTACT_OHM`)."""
    return f"{r_ohm:.4g} Ohm" if math.isfinite(r_ohm) and r_ohm < OPEN_CONTACT_OHM else "open"


def read_station(station: Station | None, lock_timeout_s: float = 0.2) -> dict[str, Any] | None:
    """One reading of the station as display strings, or None when the lock was busy.

    ``connections`` maps role -> "ok" or the error of its last query; ``alarms`` maps an
    alarm kind (:data:`pcsdaq.gui.alarms.ALARM_KINDS`) -> what the reading showed."""
    if station is None:
        return None
    if not station.lock.acquire(timeout=lock_timeout_s):
        return None
    values: dict[str, Any] = {}
    conn: dict[str, str] = {}
    alarms: dict[str, str] = {}

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
            from pcsdaq.procedures.waits import reading_status

            values["temperature"] = f"{t.read_temperature():.4g} K"
            flags = reading_status(t)
            if flags:
                values["temperature"] = "invalid"
                alarms["thermometer"] = "reading status " + ", ".join(sorted(flags))
            values["setpoint"] = f"{t.get_setpoint():.4g} K"
            values["heater"] = f"{t.heater_output():.3g} %"
            heater = getattr(t, "heater_status", None)
            state = heater() if heater is not None else "ok"
            if state in ("open", "short"):
                values["heater"] = f"heater {state}"
                alarms["heater"] = f"the controller reports its heater {state}"

        def magnet(m):
            values["field"] = f"{m.read_field():+.4f} T"
            quenched = getattr(m, "is_quenched", None)
            if quenched is not None and quenched():
                values["magnet"] = "QUENCH"
                alarms["quench"] = "the magnet supply reports a quench"
            else:
                values["magnet"] = m.state()

        def lockin(li):
            x, _ = li.read_xy()
            from pcsdaq.procedures.bias_sweep import contact_resistance

            r = contact_resistance(x, li)
            values["contact"] = contact_text(r)
            try:
                from pcsdaq.physics.wexler import contact_diameter

                if values["contact"] == "open":
                    raise ValueError("open contact")
                values["diameter"] = f"{contact_diameter(r) * 1e9:.3g} nm (paper)"
            except ValueError:
                values["diameter"] = "-"
            if li.is_overloaded():
                values["overload"] = "OVERLOAD"
                alarms["overload"] = "the lock-in reports an overload"
            else:
                values["overload"] = "no"

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
    lost = {r: e for r, e in conn.items() if e != "ok"}
    if lost:
        alarms["connection"] = "; ".join(f"{r}: {e}" for r, e in lost.items())
    values["connections"] = conn
    values["alarms"] = alarms
    return values


class _Reader(QtCore.QRunnable):
    def __init__(self, dashboard: Dashboard) -> None:
        super().__init__()
        self.dashboard = dashboard

    def run(self) -> None:
        station = self.dashboard.station
        # a station owned by the engine's process (pcsdaq.gui.engine_process) is read there
        remote = getattr(station, "read_dashboard", None)
        values = remote() if remote is not None else read_station(station)
        self.dashboard.reading.emit(values if values is not None else {})


class Dashboard(QtWidgets.QGroupBox):
    """Live instrument values and the connection state of each role.

    A value in alarm is shown in red; a value not refreshed for ``stale_after_s`` (or of a
    role whose connection is lost) is greyed out. Each alarm's onset is emitted once as
    ``alarm`` (an :class:`~pcsdaq.gui.alarms.Alarm`); it can be raised again once it has
    cleared."""

    reading = QtCore.pyqtSignal(dict)
    alarm = QtCore.pyqtSignal(object)

    def __init__(self, station: Station | None = None, interval_ms: int = 2000,
                 parent=None, stale_after_s: float = STALE_AFTER_S) -> None:
        super().__init__("Instruments", parent)
        self.station = station
        self.stale_after_s = stale_after_s
        self.labels: dict[str, QtWidgets.QLabel] = {}
        self.updated: dict[str, float] = {}  #: field -> monotonic time of its last value
        self.lost: set[str] = set()  #: fields of roles whose connection is lost
        self.in_alarm: set[str] = set()  #: fields showing an alarm
        self.active: dict[str, str] = {}  #: alarm kind -> message, while it lasts
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
        """Grey out stale values; ask the worker pool for a reading (skipped while one is
        pending)."""
        self.mark_stale()
        if self.station is None or self._busy:
            return
        self._busy = True
        pool = QtCore.QThreadPool.globalInstance()
        assert pool is not None  # Qt's application-wide pool always exists
        pool.start(_Reader(self))

    def _set(self, key: str, text: str, now: float | None = None) -> None:
        self.labels[key].setText(text)
        self.updated[key] = time.monotonic() if now is None else now

    def _show(self, values: dict) -> None:
        self._busy = False
        if not values:
            self.mark_stale()
            return  # the lock was busy: keep the last values
        alarms: dict[str, str] = values.get("alarms", {})
        self.in_alarm = {ALARM_FIELDS[k] for k in alarms if k in ALARM_FIELDS}
        for key in self.labels:
            if key in values:
                self._set(key, str(values[key]))
        conn = values.get("connections", {})
        self.lost = {f for role, state in conn.items() if state != "ok"
                     for f in ROLE_FIELDS.get(role, ())}
        self.connections.setText(", ".join(
            f"{r}: {s}" if s == "ok" else f'<span style="{ALARM_STYLE}">{r}: {s}</span>'
            for r, s in conn.items()))
        self.update_alarms(alarms)
        self.mark_stale()

    def update_alarms(self, alarms: dict[str, str]) -> None:
        """The alarms of the latest reading (kind -> message): emit each new one."""
        from pcsdaq.gui.alarms import Alarm

        for kind, message in alarms.items():
            if kind not in self.active:
                self.alarm.emit(Alarm(kind, message))
        self.active = dict(alarms)

    def mark_stale(self, now: float | None = None) -> list[str]:
        """Style every value: red in alarm, grey when stale or its role is lost; returns the
        stale fields."""
        now = time.monotonic() if now is None else now
        stale = [k for k in self.labels
                 if k in self.lost or (k in self.updated
                                       and now - self.updated[k] > self.stale_after_s)]
        for key, label in self.labels.items():
            style = STALE_STYLE if key in stale else ALARM_STYLE if key in self.in_alarm else ""
            if label.styleSheet() != style:
                label.setStyleSheet(style)
        return stale

    def is_stale(self, key: str) -> bool:
        """True when ``key``'s value is greyed out."""
        return self.labels[key].styleSheet() == STALE_STYLE

    def show_point(self, row: dict) -> None:
        """During a run, take the values of the engine's points instead of querying."""
        now = time.monotonic()
        t = row.get("temperature_K")
        if t is not None and t == t:
            self._set("temperature", f"{t:.4g} K", now)
        b = row.get("field_T")
        if b is not None and b == b:
            self._set("field", f"{b:+.4f} T", now)
        r = row.get("dVdI_Ohm", row.get("R_Ohm"))
        if r is not None and r == r:
            self._set("contact", contact_text(r), now)
