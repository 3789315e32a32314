"""Running pcsdaq procedures in pymeasure's Worker: the RunContext for pymeasure, the
pymeasure column names of a procedure's columns, and the station a run opens.

The measurement body is the one the RunEngine runs (``StationProcedure.execute_on``);
:class:`PymeasureContext` gives it what :class:`pcsdaq.runner.context.EngineContext` gives it,
on pymeasure's terms: each point goes out as ``procedure.emit('results', {...})`` (pymeasure's
Recorder writes the CSV), progress as ``emit('progress', percent)``, and ``checkpoint()``
raises :class:`~pcsdaq.errors.AbortRequested` once pymeasure's ``should_stop()`` is true.

A procedure's station comes from its ``station`` parameter: a station file path (its VISA
resources are opened), or ``sim:PATH`` for that file's simulated lab in this process on a
virtual clock (one lab per file and process, so queued runs see the same cryostat; the needle
starts in contact and the stage at base temperature).
"""

from __future__ import annotations

import logging
import math
import re
import time
from pathlib import Path
from typing import Any

from pcsdaq.errors import AbortRequested, ConfigError

log = logging.getLogger("pcsdaq.procedures.pymeasure")

#: pcsdaq unit -> the spelling pymeasure's unit registry (pint) reads in a column label
PINT_UNITS = {"Ohm": "ohm"}
#: column pymeasure's CSV adds to the procedure's columns: which segment (spectrum, R(T)
#: log) of the run the point belongs to, 0, 1, ... in order
SEGMENT_COLUMN = "segment"
SIM_PREFIX = "sim:"


def pymeasure_label(name: str, unit: str) -> str:
    """pymeasure's column label of a pcsdaq column: ``"V_dc_V"``, ``"V"`` -> ``"V_dc (V)"``.

    The unit suffix of the name is dropped (case-insensitive) and the unit written in
    parentheses as pymeasure's Results expects it; a column without unit keeps its name."""
    if not unit:
        return name
    base = re.sub(rf"_{re.escape(unit)}$", "", name, flags=re.IGNORECASE) or name
    return f"{base} ({PINT_UNITS.get(unit, unit)})"


def data_columns(columns: dict[str, str]) -> list[str]:
    """pymeasure's ``DATA_COLUMNS`` for a procedure's ``COLUMNS`` (name -> unit), plus the
    segment index column."""
    labels = [pymeasure_label(name, unit) for name, unit in columns.items()]
    if len(set(labels)) != len(labels):
        raise ValueError(f"columns {list(columns)} give duplicate pymeasure labels {labels}")
    return [*labels, SEGMENT_COLUMN] if columns else []


class PymeasureContext:
    """The RunContext (see pcsdaq.procedures.base.RunContext) of a procedure run by
    pymeasure's Worker: points and progress are pymeasure emits, abort is pymeasure's stop.

    Run-level metadata and resume state are kept on the context (``metadata``,
    ``resume_state``); pymeasure's CSV has no place for them and a pymeasure run does not
    resume. Segments become the ``segment`` column. With a ``writer`` (see
    :func:`open_run_record`) every point, segment and metadata item also goes into pcsdaq's
    HDF5 run record, durable before pymeasure sees it."""

    #: at most one progress emit per this many wall-clock s (the end always gets one)
    PROGRESS_INTERVAL_S = 0.1

    def __init__(self, procedure: Any, station: Any, writer: Any = None) -> None:
        self.procedure = procedure
        self.station = station
        self.writer = writer  #: a RunWriter when the HDF5 record is written beside the CSV
        self.clock = station.clock
        self.resume_state: dict = {}
        self.metadata: dict[str, Any] = {}
        self.segments: list[tuple[str, dict]] = []
        self.n_points = 0
        self._labels = [(name, pymeasure_label(name, unit))
                        for name, unit in procedure.COLUMNS.items()]
        self._emit = procedure.emit
        self._should_stop = procedure.should_stop
        self._last_progress = -math.inf

    def begin_segment(self, name: str, **attrs: Any) -> None:
        """Points from now on carry the next segment index; the segment is logged."""
        if self.writer is not None:
            self.writer.begin_segment(name, **attrs)
        self.segments.append((name, attrs))
        self.log(f"segment {len(self.segments) - 1}: {name}")

    def record(self, row: dict) -> None:
        """Emit one point as pymeasure results (pymeasure's Recorder writes it to the CSV)."""
        if self.writer is not None:
            self.writer.append(row)
        data = {label: row[name] for name, label in self._labels}
        data[SEGMENT_COLUMN] = max(len(self.segments) - 1, 0)
        self._emit("results", data)
        self.n_points += 1

    def checkpoint(self) -> None:
        """Between points: raise AbortRequested once pymeasure asked the run to stop."""
        if self._should_stop():
            raise AbortRequested("stopped from pymeasure")

    def progress(self, fraction: float) -> None:
        """Emit progress in percent (0-100), at most every PROGRESS_INTERVAL_S."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_progress < self.PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self._emit("progress", 100.0 * fraction)

    def log(self, message: str, level: str = "info") -> None:
        """A line for pymeasure's log (the ManagedWindow's log panel shows it)."""
        log.log(getattr(logging, level.upper(), logging.INFO), message)

    def set_metadata(self, **attrs: Any) -> None:
        """Run-level attributes, kept in ``metadata`` (and in the HDF5 record)."""
        self.metadata.update(attrs)
        if self.writer is not None:
            self.writer.set_metadata(**attrs)

    def save_resume_state(self, **state: Any) -> None:
        """Progress of the run, kept in ``resume_state`` (a pymeasure run does not resume)."""
        self.resume_state.update(state)


_SIM_LABS: dict[str, Any] = {}


def sim_lab(path: str | Path) -> Any:
    """The in-process simulated lab of station file ``path`` on a VirtualClock: made on first
    use with the needle in contact and the stage at base temperature, then shared by every
    run of this process that names ``sim:path``."""
    key = str(Path(path).resolve())
    lab = _SIM_LABS.get(key)
    if lab is None:
        from pcsdaq.clock import VirtualClock
        from pcsdaq.sim.lab import SimLab

        lab = SimLab.from_station_file(key, clock=VirtualClock())
        assert lab.contact is not None, f"{path}: its simulated lab has no contact"
        lab.contact.place()
        lab.cryostat.set_temperature(lab.cryostat.base_K)
        _SIM_LABS[key] = lab
    return lab


def forget_sim_labs() -> None:
    """Drop the shared simulated labs (the next ``sim:`` run starts a fresh one)."""
    _SIM_LABS.clear()


def open_station(spec: str) -> Any:
    """The Station a ``station`` parameter names: ``PATH`` opens the file's VISA resources,
    ``sim:PATH`` its simulated lab in this process (:func:`sim_lab`). The file is validated
    before anything is opened (ConfigError naming file, key and allowed values)."""
    from pcsdaq.station import Station, load_station_config

    spec = (spec or "").strip()
    if not spec:
        raise ConfigError("no station: set the 'station' parameter to a station file, or "
                          "sim:FILE for its simulated lab", key="station")
    if spec.startswith(SIM_PREFIX):
        path = spec[len(SIM_PREFIX):].strip()
        config = load_station_config(path)
        lab = sim_lab(path)
        return Station.open(config, adapter_factory=lab.adapter_factory(), clock=lab.clock)
    return Station.from_file(spec)


def open_run_record(procedure: Any, station: Any, path: str | Path) -> Any:
    """pcsdaq's HDF5 run record of a pymeasure run (a RunWriter, as the RunEngine writes one:
    parameters, station snapshot, software and station metadata); close it with the run's
    status."""
    from pcsdaq import __version__
    from pcsdaq.storage import RunWriter

    with station.lock:
        snapshot = station.snapshot()
    sim = getattr(station.config, "sim", None) or {}
    metadata = {"software": f"pcsdaq {__version__}", "runner": "pymeasure Worker",
                "station_file": str(station.config.source), "sample": sim.get("sample", ""),
                "needle": sim.get("needle", "")}
    return RunWriter(path, procedure=procedure.NAME, columns=procedure.COLUMNS,
                     parameters=procedure.parameters_dict(), metadata=metadata,
                     snapshot=snapshot, signal=procedure.SIGNAL, axes=procedure.AXES[0])
