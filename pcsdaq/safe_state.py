"""The safe state: every instrument's safe action, each on its own, each with a timeout.

The safe state of a station is, role by role (the order below):

* ``bias``: the DC bias to zero;
* ``lockin``: the sine output to its minimum (4 mV rms on an SR830), so no excitation
  larger than needed drives the contact while nobody watches;
* ``thermometer``: setpoint ramp off, heater to the station file's ``safe_heater_range``;
* ``magnet``: hold (AMI430 ``PAUSE``, Mercury ``HOLD``): the field stays where it is;
* ``positioner``: the piezo axis grounded.

Each action is first tried on the station's open link; when that fails or does not
answer within ``timeout_s`` (a dead link, a hung instrument), it is tried again on a fresh
connection to that one instrument. One instrument that stays unreachable never stops the
others. Every outcome is returned as a :class:`SafeOutcome` (the engine logs them and
stores them in the run file; ``pcsdaq safe`` prints them).

This module also keeps the *instrument record* of a data folder
(``pcsdaq-instruments.json``): what a run left the instruments doing, written when a step
starts and when it ends, so the next ``pcsdaq run`` can say what was left after a crash.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pcsdaq.errors import ConfigError, PcsdaqError

#: role -> (what the safe action does, the driver method that does it)
SAFE_ACTIONS: dict[str, tuple[str, str]] = {
    "bias": ("bias to zero", "zero"),
    "lockin": ("sine output to its minimum", "safe_state"),
    "thermometer": ("ramp off, heater to its safe range", "safe_state"),
    "magnet": ("hold the field (pause any ramp)", "hold"),
    "positioner": ("piezo axis grounded", "ground"),
}
#: default time each safe action may take, real s
SAFE_TIMEOUT_S = 10.0
#: the instrument record of a data folder
RECORD_FILE = "pcsdaq-instruments.json"


@dataclass
class SafeOutcome:
    """What one instrument's safe action did: ``ok``, or why not."""

    role: str
    action: str
    ok: bool
    detail: str = ""
    fresh_connection: bool = False

    def line(self) -> str:
        """One line for the operator: ``thermometer: ramp off, heater ...: ok``."""
        how = " (on a fresh connection)" if self.fresh_connection else ""
        state = "ok" if self.ok else f"FAILED: {self.detail}"
        return f"{self.role}: {self.action}: {state}{how}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the run file."""
        return asdict(self)


def call_with_timeout(func: Callable[[], Any], timeout_s: float, what: str) -> None:
    """Run ``func()`` in a helper thread; TimeoutError when it takes longer than
    ``timeout_s`` (the thread is left to finish on its own: a hung link cannot hold the
    caller), its exception re-raised otherwise."""
    box: dict[str, BaseException] = {}

    def target() -> None:
        try:
            func()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"pcsdaq-safe-{what}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout_s:g} s")
    if "error" in box:
        raise box["error"]


def open_role(config: Any, role: str, adapter_factory: Callable | None = None,
              opened: dict[str, Any] | None = None) -> dict[str, Any]:
    """Open one role on a fresh connection (and the role it rides on, e.g. the lock-in
    for an aux-output bias); returns ``{role: driver, ...}`` of everything it opened."""
    opened = {} if opened is None else opened
    rc = config.roles[role]
    kwargs = {"name": f"{role} ({rc.driver})", "limits": rc.limits, "settings": rc.settings}
    if rc.uses is not None:
        if rc.uses not in opened:
            open_role(config, rc.uses, adapter_factory, opened)
        opened[role] = rc.driver_class(opened[rc.uses], **kwargs)
        return opened
    adapter = adapter_factory(rc.driver, rc.resource) if adapter_factory else None
    if adapter is not None and not isinstance(adapter, str):
        opened[role] = rc.driver_class(adapter, **kwargs)
    else:
        resource = adapter if isinstance(adapter, str) else rc.resource
        opened[role] = rc.driver_class(resource, visa_library="@py", **rc.visa, **kwargs)
    return opened


def close_opened(opened: Mapping[str, Any], config: Any) -> None:
    """Close the links of drivers opened by :func:`open_role` (best effort)."""
    for role, inst in opened.items():
        if config.roles[role].uses is not None:
            continue
        try:
            inst.adapter.close()
        except Exception:  # closing is best effort; the link may already be gone
            pass


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def safe_one(config: Any, role: str, instrument: Any, adapter_factory: Callable | None,
             timeout_s: float = SAFE_TIMEOUT_S) -> SafeOutcome:
    """The safe action of ``role``: on ``instrument`` (may be None or dead), and if that
    fails on a fresh connection; never raises."""
    action, method = SAFE_ACTIONS[role]
    first = None
    if instrument is not None:
        try:
            call_with_timeout(lambda: getattr(instrument, method)(), timeout_s, role)
            return SafeOutcome(role, action, True)
        except Exception as exc:
            first = _describe(exc)
    opened: dict[str, Any] = {}
    try:
        call_with_timeout(lambda: open_role(config, role, adapter_factory, opened),
                          timeout_s, role)
        call_with_timeout(lambda: getattr(opened[role], method)(), timeout_s, role)
        return SafeOutcome(role, action, True, f"old link: {first}" if first else "",
                           fresh_connection=True)
    except Exception as exc:
        old = f" (old link: {first})" if first else ""
        return SafeOutcome(role, action, False, f"{_describe(exc)}{old}",
                           fresh_connection=True)
    finally:
        close_opened(opened, config)


def safe_state(config: Any, instruments: Mapping[str, Any] | None = None,
               adapter_factory: Callable | None = None,
               timeout_s: float = SAFE_TIMEOUT_S) -> list[SafeOutcome]:
    """Every role's safe action (see the module doc), each independently; never raises."""
    instruments = instruments or {}
    return [safe_one(config, role, instruments.get(role), adapter_factory, timeout_s)
            for role in SAFE_ACTIONS if role in config.roles]


# --- the instrument record of a data folder ----------------------------------------------
def record_path(data_dir: str | Path) -> Path:
    """The instrument record of ``data_dir``."""
    return Path(data_dir) / RECORD_FILE


def summarize_snapshot(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """What each instrument was doing, in words, from a station snapshot."""
    out: dict[str, str] = {}
    therm = snapshot.get("thermometer") or {}
    if "heater_range" in therm:
        out["thermometer"] = (f"heater range {therm['heater_range']}, setpoint "
                              f"{therm.get('setpoint_K', float('nan')):g} K")
    magnet = snapshot.get("magnet") or {}
    for key in ("target_T", "fset_T"):
        if key in magnet:
            out["magnet"] = f"target field {magnet[key]:g} T"
    pos = snapshot.get("positioner") or {}
    if "mode" in pos:
        out["positioner"] = f"axis {pos.get('axis')} mode {pos['mode']}, step voltage " \
                            f"{pos.get('voltage_V', float('nan')):g} V"
    lockin = snapshot.get("lockin") or {}
    if "sine_voltage_V" in lockin:
        out["lockin"] = f"sine {lockin['sine_voltage_V']:g} V"
    for role, snap in snapshot.items():
        if isinstance(snap, Mapping) and "error" in snap:
            out[role] = f"could not be read ({snap['error']})"
    return out


def write_record(data_dir: str | Path, **fields: Any) -> None:
    """Update the data folder's instrument record (atomic replace; never raises)."""
    path = record_path(data_dir)
    try:
        record = read_record(data_dir) or {}
        record.update(fields, updated=datetime.now().isoformat(timespec="seconds"))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, indent=1, default=str))
        tmp.replace(path)
    except OSError:
        pass  # the record is a courtesy; the run file holds the truth


def read_record(data_dir: str | Path) -> dict[str, Any] | None:
    """The data folder's instrument record, or None."""
    try:
        data = json.loads(record_path(data_dir).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def last_run_report(data_dir: str | Path) -> list[str]:
    """Lines saying how the last run in ``data_dir`` ended and what it left the
    instruments doing ([] when there is no record)."""
    record = read_record(data_dir)
    if not record:
        return []
    state = record.get("state", "unknown")
    what = f"last run in {data_dir} ({record.get('plan') or 'no plan'}, {record.get('step', '')})"
    lines = []
    if state == "running":
        lines.append(f"{what} did not end (crash or kill at {record.get('updated')}); "
                     "the instruments were left:")
        left = record.get("left") or {}
        lines += [f"  {role}: {text}" for role, text in left.items()] or ["  (unknown)"]
        lines.append("  no safe state was applied after it; this run starts from there "
                     "(`pcsdaq safe` applies it by hand)")
    else:
        lines.append(f"{what} ended {state}" + (f": {record['reason']}"
                                                 if record.get("reason") else ""))
        for outcome in record.get("safe_state") or []:
            lines.append("  safe state " + SafeOutcome(**outcome).line())
    return lines


def main(argv: list[str]) -> int:
    """``pcsdaq safe [STATION]``: put every instrument in its safe state now."""
    from pcsdaq.cli_args import OneLineParser
    from pcsdaq.station import load_station_config

    parser = OneLineParser(prog="pcsdaq safe", description=(
        "Put every instrument of a station in its safe state (bias 0, lock-in sine minimum, "
        "heater safe range, magnet hold, piezo grounded), each on a fresh connection. "
        "Prints one line per instrument; exit 1 if any failed."))
    parser.add_argument("station", nargs="?", help="station file (default: the one the last "
                        "run in --data used)")
    parser.add_argument("--data", default="data", help="data folder whose last run names the "
                        "station (default ./data)")
    parser.add_argument("--timeout", type=float, default=SAFE_TIMEOUT_S,
                        help="seconds each instrument may take (default 10)")
    args = parser.parse_args(argv)
    if not 0 < args.timeout <= 600:
        raise ConfigError(f"--timeout {args.timeout!r}; allowed 0 < value <= 600 s")
    station = args.station
    if station is None:
        station = (read_record(args.data) or {}).get("station_file")
        if not station:
            raise ConfigError(f"no STATION given and no run record in {args.data}; "
                              "give the station file")
    config = load_station_config(station)
    outcomes = safe_state(config, None, None, timeout_s=args.timeout)
    for outcome in outcomes:
        print(outcome.line().replace(" (on a fresh connection)", ""))
    failed = [o for o in outcomes if not o.ok]
    if not outcomes:
        raise PcsdaqError(f"{station}: no role with a safe action")
    return 1 if failed else 0
