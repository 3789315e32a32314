"""A served lab made usable by a run: which emulator stands for a station role, the station
file of a served lab (``pcsdaq sim serve --station-out FILE``), and a ports file
(``--json FILE``) read back (``pcsdaq run --ports FILE``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from pcsdaq.errors import ConfigError

#: (driver, settings "model") -> emulator, where a driver's model picks another emulator
MODEL_EMULATORS = {("LakeShore336", "350"): "ls350"}


def emulator_for(driver: str, settings: dict | None = None) -> str:
    """Name of the emulator that answers for ``driver`` (with its role ``settings``)."""
    from pcsdaq.sim.lab import SimLab

    model = str((settings or {}).get("model", ""))
    if (driver, model) in MODEL_EMULATORS:
        return MODEL_EMULATORS[(driver, model)]
    return SimLab.emulator_for_driver(driver)


def served_station(station: dict, resources: dict[str, str],
                   time_scale: float | None = None) -> dict:
    """Copy of a station file's data whose roles point at the ``resources`` served
    ({emulator: VISA resource}); the clock runs at ``time_scale`` when given (the served
    lab's), ``sim.ports`` lists the TCP ports served, and the bias source confirms each set
    (``confirm_set``) unless the file says otherwise."""
    out = json.loads(json.dumps(station))  # a deep copy of plain YAML data
    for role, entry in (out.get("roles") or {}).items():
        if role == "bias" and isinstance(entry, dict):
            # each emulator answers on its own thread: a busy host can let the DMM's query
            # overtake the bias set on another socket (the lab's scaled clock makes the
            # sweep's DC settle wait microseconds); the bias source reads its set back
            entry.setdefault("settings", {}).setdefault("confirm_set", True)
        if not isinstance(entry, dict) or entry.get("resource") is None:
            continue  # a driver riding on another role (uses: ...)
        name = emulator_for(entry.get("driver", ""), entry.get("settings"))
        if name in resources:
            entry["resource"] = resources[name]
    if time_scale is not None:
        out.setdefault("clock", {})["time_scale"] = time_scale
    ports = {name: int(res.split("::")[2]) for name, res in resources.items()
             if res.startswith("TCPIP::")}
    out.setdefault("sim", {})["ports"] = ports
    return out


def write_served_station(config_path: str | Path, resources: dict[str, str],
                         out_path: str | Path, time_scale: float | None = None) -> None:
    """Write the station file of a served lab (see :func:`served_station`)."""
    station = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    text = ("# written by `pcsdaq sim serve --station-out`: the served lab's resources\n"
            + yaml.safe_dump(served_station(station, resources, time_scale), sort_keys=False))
    tmp = Path(f"{out_path}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out_path)  # a reader never sees half a file


def read_ports(path: str | Path) -> dict[str, str]:
    """{emulator: VISA resource} from a ``pcsdaq sim serve --json`` file; ConfigError
    naming the file when it cannot be used."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read ports file: {exc.strerror}", source=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}", source=str(path)) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError("must map emulator names to VISA resources, as "
                          "`pcsdaq sim serve --json` writes", source=str(path))
    return data


def ports_adapter_factory(resources: dict[str, str], config: Any, source: str) -> Any:
    """``(driver, resource) -> served resource`` for Station.open from a ports file."""
    settings = {rc.driver: dict(rc.settings) for rc in config.roles.values()}

    def factory(driver: str, resource: str) -> str:
        name = emulator_for(driver, settings.get(driver))
        if name not in resources:
            raise ConfigError(f"no served {name} for {driver}; the file has "
                              f"{', '.join(sorted(resources))}", source=source)
        return resources[name]
    return factory
