"""RunEngine: runs a queue of plan steps on a station, for the CLI and the GUI alike.

One worker thread (or the caller's, :meth:`RunEngine.run_blocking`) runs the steps; each
step writes one HDF5 run file (pcsdaq.storage). Subscribers get event dicts from the worker
thread (types: run_started, segment, point, progress, status, step_finished, log). Pause and
abort act between points (the procedures call ``checkpoint``). On abort or failure the
station goes to its safe state (bias zero, lock-in sine minimum, heater safe, magnet hold,
piezo grounded; each instrument on its own, see :mod:`pcsdaq.safe_state`), each outcome is
logged and stored in the run file (metadata ``safe_state``), and the run file is closed
"aborted"/"failed" with the reason.

What an exception does follows :func:`pcsdaq.errors.classify`: a link fault (timeout,
dropped connection, garbled reply) is retried up to ``max_retries`` times in a row (a
recorded point starts a fresh count) after reconnecting the station (the step continues
from its saved resume state); a refusal (limit, bad value, an instrument's own refusal) is
never retried and is reported as "refused: ..."; a quench is a
hard stop; a fault of the experiment (open heater, invalid thermometer) ends the step safe
with the reason; any other exception is a programming error: the step fails at once and
the traceback goes to the log file. ``pcsdaq-instruments.json`` records what the
instruments were left doing (see :func:`pcsdaq.safe_state.last_run_report`).

Resume: each run (one :meth:`start`) keeps its own JSON state file in the data folder,
``pcsdaq-run-<start time>-<pid>.state.json``, never shared with another run. It records per
step index the step's status, a fingerprint of its procedure and parameters, and the
procedure's resume state (the indices of the setpoints it completed, never their values, so
a series that repeats a setpoint measures it again). ``start(resume=True)`` continues the
newest unfinished state file of the same plan: a step whose fingerprint is unchanged and
that finished is skipped, an unfinished one continues at its next index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pcsdaq import __version__
from pcsdaq import safe_state as safety
from pcsdaq.errors import AbortRequested, PcsdaqError, classify
from pcsdaq.procedures import PlanError
from pcsdaq.runner.context import EngineContext
from pcsdaq.runner.live_fit import LIVE_COLUMNS, LIVE_TABLE, LiveFitter, enabled_by_environment
from pcsdaq.runner.plan import (
    PlanStep,
    estimate_plan_duration_s,
    load_plan,
    save_plan,
    validate_plan,
)
from pcsdaq.storage import RunWriter

if TYPE_CHECKING:
    from pcsdaq.clock import Clock
    from pcsdaq.station import Station

log = logging.getLogger("pcsdaq.runner")
STATE_GLOB = "pcsdaq-run-*.state.json"


def step_fingerprint(step: PlanStep) -> str:
    """A short hash of a step's procedure and parameters: resume state is reused only for
    the same step (a plan edited between the crash and the resume starts changed steps
    afresh)."""
    text = json.dumps([step.procedure, step.parameters], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]



def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word.replace('y', 'ie')}s"


def failure_reason(kind: str, exc: BaseException, retries: int = 0) -> tuple[str, str]:
    """(status, reason) of a step that ended with ``exc`` of :func:`classify` ``kind``."""
    text = f"{type(exc).__name__}: {exc}"
    if kind == "abort":
        return "aborted", str(exc)
    if kind == "hard_stop":
        return "failed", f"quench (hard stop): {exc}"
    if kind == "refusal":
        return "failed", f"refused: {exc}"
    if kind == "link":
        return "failed", f"link fault after {_plural(retries, 'retry')}: {text}"
    if kind == "experiment":
        return "failed", f"experiment fault: {exc}"
    if kind == "error":
        return "failed", str(exc) if isinstance(exc, PcsdaqError) else text
    return "failed", f"programming error: {text} (traceback in the log file)"


def publish(subscribers: list[Callable[[dict], None]], event: dict) -> None:
    """Call each subscriber with ``event``; one that fails is logged and the others still
    get it (a broken display must not break the measurement)."""
    for cb in list(subscribers):
        try:
            cb(event)
        except Exception:
            log.exception("event subscriber failed")


class RunEngine:
    """Queue of plan steps run on one station, with events, pause/resume/abort and resume."""

    def __init__(self, station: Station, data_dir: str | Path, *, clock: Clock | None = None,
                 max_retries: int = 2, plan_source: str | None = None,
                 live_fit: bool | None = None, live_fit_options: dict | None = None) -> None:
        self.station = station
        #: fit spectra live (procedures with ``live_fit`` on); None: as the environment
        #: variable PCSDAQ_LIVE_FIT says (on unless 0/off), the global switch for tests/CI
        self.live_fit = live_fit
        self.live_fit_options = dict(live_fit_options or {})  #: fit_spectrum options
        self.live: LiveFitter | None = None  #: this run's live fit (worker process)
        self.live_worker_pid: int | None = None  #: the last run's live-fit worker's pid
        self.data_dir = Path(data_dir)
        self.clock = clock or station.clock
        self.max_retries = max_retries
        self.plan_source = plan_source
        self.queue: list[PlanStep] = []
        self.state = "idle"
        self.reason: str | None = None
        self.files: list[Path] = []
        self._subscribers: list[Callable[[dict], None]] = []
        self._pause = threading.Event()
        self._abort_reason: str | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._done.set()
        self._estimates: list[float] = []
        self._step_state: dict[str, Any] = {}
        self.state_path: Path | None = None  #: this run's resume state file

    # --- events ---------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[dict], None]) -> None:
        """Call ``callback(event)`` for every event (from the worker thread)."""
        self._subscribers.append(callback)

    def emit(self, event: dict) -> None:
        """Publish an event; a failing subscriber is logged, never stops the run."""
        publish(self._subscribers, event)

    def log(self, message: str, level: str = "info") -> None:
        """Log to the run log and publish a "log" event (the record is marked
        ``pcsdaq_event`` so a display of both shows it once)."""
        log.log(getattr(logging, level.upper(), logging.INFO), message,
                extra={"pcsdaq_event": True})
        self.emit({"type": "log", "level": level, "message": message})

    def _set_state(self, state: str, reason: str | None = None) -> None:
        self.state, self.reason = state, reason
        self.emit({"type": "status", "state": state, "reason": reason})

    # --- queue ----------------------------------------------------------------------------
    def enqueue(self, step: PlanStep) -> None:
        """Append a step (validated now against the station; PlanError if it cannot run)."""
        problems = validate_plan([step], self.station.config)
        if problems:
            raise PlanError("; ".join(problems))
        self.queue.append(step)

    def remove(self, index: int) -> None:
        """Remove the step at ``index``."""
        del self.queue[index]

    def move(self, index: int, new_index: int) -> None:
        """Move the step at ``index`` to ``new_index``."""
        self.queue.insert(new_index, self.queue.pop(index))

    def replace(self, index: int, step: PlanStep) -> None:
        """Put ``step`` in place of the step at ``index`` (validated now, as by enqueue)."""
        problems = validate_plan([step], self.station.config)
        if problems:
            raise PlanError("; ".join(problems))
        self.queue[index] = step

    def load_plan(self, path: str | Path) -> None:
        """Replace the queue with a plan file's steps (validated)."""
        plan = load_plan(path)
        problems = validate_plan(plan, self.station.config)
        if problems:
            raise PlanError(f"{path}: " + "; ".join(problems))
        self.queue = list(plan.steps)
        self.plan_source = str(path)

    def save_plan(self, path: str | Path) -> None:
        """Write the queue as a plan file naming this station's file."""
        save_plan(path, self.queue, self.station.config.source)

    # --- control --------------------------------------------------------------------------
    def pause(self) -> None:
        """Pause at the next point boundary."""
        if self.state == "running":
            self._pause.set()
            self._set_state("paused")

    def resume(self) -> None:
        """Continue after a pause."""
        if self._pause.is_set():
            self._pause.clear()
            self._set_state("running")

    def abort(self, reason: str = "aborted by the operator") -> None:
        """Stop at the next point boundary; safe state; files marked aborted."""
        self._abort_reason = reason
        self._pause.clear()

    def checkpoint(self) -> None:
        """Called by procedures between points."""
        while self._pause.is_set() and self._abort_reason is None:
            time.sleep(0.02)
        if self._abort_reason is not None:
            raise AbortRequested(self._abort_reason)

    def start(self, resume: bool = False) -> None:
        """Run the queue in a worker thread; returns at once."""
        if not self._done.is_set():
            raise PcsdaqError("the engine is already running")
        self._done.clear()
        self._thread = threading.Thread(target=self._run_safely, args=(resume,),
                                        name="pcsdaq-engine", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the queue to finish; True when it did."""
        return self._done.wait(timeout)

    def run_blocking(self, resume: bool = False) -> str:
        """Run the queue in this thread; returns the final state."""
        if not self._done.is_set():
            raise PcsdaqError("the engine is already running")
        self._done.clear()
        self._run_safely(resume)
        return self.state

    # --- progress and resume state --------------------------------------------------------
    def step_progress(self, step: int, fraction: float, eta_s: float) -> None:
        """Publish progress of ``step`` with the overall fraction from the estimates."""
        total = sum(self._estimates) or 1.0
        done = sum(self._estimates[:step]) + fraction * self._estimates[step]
        overall = done / total
        elapsed = time.monotonic() - self._t_start
        overall_eta = elapsed * (1 - overall) / overall if overall > 0 else float("nan")
        self.emit({"type": "progress", "step": step, "fraction": fraction, "eta_s": eta_s,
                   "overall_fraction": overall, "overall_eta_s": overall_eta})

    def _state_path(self) -> Path:
        if self.state_path is None:
            stamp = f"{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
            path, n = self.data_dir / f"pcsdaq-run-{stamp}.state.json", 1
            while path.exists():  # another run of this process in the same second
                n += 1
                path = self.data_dir / f"pcsdaq-run-{stamp}-{n}.state.json"
            self.state_path = path
        return self.state_path

    def _load_state(self) -> dict[str, Any]:
        """The newest unfinished state of this plan in the data folder ({} if none); this
        run then continues in that file."""
        candidates = []
        for path in self.data_dir.glob(STATE_GLOB):
            try:
                state = json.loads(path.read_text())
                mtime = path.stat().st_mtime
            except (OSError, ValueError):
                continue
            if isinstance(state, dict) and state.get("plan") == self.plan_source \
                    and state.get("state") != "finished":
                candidates.append((mtime, str(path), path, state))
        if not candidates:
            return {}
        _, _, path, state = max(candidates)
        self.state_path = path
        self.log(f"resuming the run recorded in {path.name}")
        return state

    def save_step_state(self, step: int, status: str, resume_state: dict | None = None) -> None:
        """Record a step's status and resume state in this run's state file (atomic
        replace), keyed by the step's index and with its fingerprint."""
        steps = self._step_state.setdefault("steps", {})
        entry = steps.setdefault(str(step), {})
        entry.update(status=status, procedure=self.queue[step].procedure,
                     fingerprint=step_fingerprint(self.queue[step]))
        if resume_state is not None:
            entry["resume_state"] = resume_state
        self._step_state["plan"] = self.plan_source
        self._write_state()

    def _write_state(self) -> None:
        """Replace this run's state file atomically. A refused write (disk full, read-only)
        is logged, not raised: the run file is the record, and its own write error (one
        line) is what ends the run."""
        path = self._state_path()
        tmp = path.with_suffix(".tmp")
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self._step_state, indent=1))
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning("cannot write the resume state %s: %s", path, exc)

    # --- the run --------------------------------------------------------------------------
    def _run_safely(self, resume: bool) -> None:
        try:
            self._run(resume)
        except Exception as exc:  # anything unforeseen still ends in a safe, recorded state
            log.exception("engine failure")
            outcomes = self._safe_state()
            self._set_state(*failure_reason(classify(exc), exc))
            self._record(self.state, reason=self.reason,
                         safe_state=[o.as_dict() for o in outcomes])
        finally:
            self._close_live()
            self._done.set()

    def _live_for(self, proc: Any) -> LiveFitter | None:
        """The run's live fit for a step whose procedure asks for it (started with the
        run's first such step), None when off (engine option, environment, parameter)."""
        on = enabled_by_environment() if self.live_fit is None else self.live_fit
        if not (on and bool(getattr(proc, "live_fit", False))):
            return None
        if self.live is None or self.live.failed:
            if self.live is not None:
                return None
            self.live = LiveFitter(self.live_fit_options, report=self.log)
        self.live.start()
        return self.live

    def _close_live(self) -> None:
        """Shut the live fit's worker process down (the run has ended, however)."""
        live, self.live = self.live, None
        if live is not None:
            try:
                live.close()
            except Exception:  # never let the shutdown hide how the run ended
                log.exception("live fit: worker shutdown failed")
            self.live_worker_pid = live.worker_pid

    def _run(self, resume: bool) -> None:
        self._abort_reason = None
        self._pause.clear()
        problems = validate_plan(self.queue, self.station.config)
        if problems:
            self._set_state("failed", "invalid plan: " + "; ".join(problems))
            return
        self._estimates = estimate_plan_duration_s(self.queue, self.station.config)
        self._t_start = time.monotonic()
        self.state_path = None  # a state file of its own, unless resuming one below
        previous = self._load_state() if resume else {}
        self._step_state = previous if resume else {}
        self._step_state.update(plan=self.plan_source, state="running")
        self._set_state("running")
        self._record("running", plan=self.plan_source, reason=None, safe_state=[],
                     station_file=str(self.station.config.source), pid=os.getpid(),
                     started=datetime.now().isoformat(timespec="seconds"))
        for i, step in enumerate(self.queue):
            entry = previous.get("steps", {}).get(str(i), {})
            if entry.get("fingerprint") != step_fingerprint(step):
                entry = {}  # another step at this index now: start it afresh
            if entry.get("status") == "finished":
                self.log(f"{step.label(i)} finished in an earlier run: skipped")
                continue
            status, reason = self._run_step(i, step, entry.get("resume_state", {}))
            if status != "finished":
                self._end_state(status)
                self._set_state(status, reason)
                return
        self._end_state("finished")
        self._set_state("finished")
        self._record("finished", reason=None)

    def _end_state(self, state: str) -> None:
        """Record how the run ended in its state file ("finished" runs are not resumed)."""
        self._step_state["state"] = state
        self._write_state()

    def _run_step(self, i: int, step: PlanStep, resume_state: dict) -> tuple[str, str | None]:
        proc = step.build()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.data_dir / f"{stamp}_step{i + 1:02d}_{proc.NAME}.h5"
        n = 1
        while path.exists():
            n += 1
            path = self.data_dir / f"{stamp}_step{i + 1:02d}_{proc.NAME}_{n}.h5"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.station.lock:
            snapshot = self.station.snapshot()
        self._record("running", step=step.label(i), left=safety.summarize_snapshot(snapshot))
        sim = getattr(self.station.config, "sim", None) or {}
        metadata = {"software": f"pcsdaq {__version__}", "plan": self.plan_source or "",
                    "step_index": i, "step_name": step.name or step.procedure,
                    "station_file": str(self.station.config.source),
                    "sample": sim.get("sample", ""), "needle": sim.get("needle", "")}
        live = self._live_for(proc)
        writer = RunWriter(path, procedure=proc.NAME, columns=proc.COLUMNS,
                           parameters=proc.parameters_dict(), metadata=metadata,
                           snapshot=snapshot, signal=proc.SIGNAL, axes=proc.AXES[0],
                           tables={LIVE_TABLE: LIVE_COLUMNS} if live is not None else None)
        self.files.append(path)
        self.save_step_state(i, "running", resume_state)
        self.emit({"type": "run_started", "step": i, "procedure": proc.NAME, "path": str(path),
                   "columns": dict(proc.COLUMNS)})
        self.log(f"{step.label(i)}: writing {path}")
        retries = 0
        names: set[str] = set()
        status, reason = "finished", None
        while True:
            ctx = EngineContext(self, i, writer, resume_state, names, live)
            try:
                proc.execute_on(ctx)
                ctx.finish_live(complete=True)
                break
            except Exception as exc:
                kind = classify(exc)
                failure: BaseException = exc
                if kind == "programming":
                    log.error("%s: programming error", step.label(i), exc_info=exc)
                if kind == "link":
                    resume_state = ctx.resume_state
                    if ctx.n_points > 0:  # progress since the last fault: a fresh budget
                        retries = 0
                    retries, again, kind = self._reconnect_for_retry(step.label(i), exc, retries)
                    if again is None:
                        continue
                    failure = again
                status, reason = failure_reason(kind, failure, retries)
            break
        if status != "finished":
            ctx.finish_live(complete=False)
            outcomes = self._safe_state()
            for outcome in outcomes:
                self.log(f"{step.label(i)}: safe state {outcome.line()}",
                         "info" if outcome.ok else "error")
            failed = [o.line() for o in outcomes if not o.ok]
            if failed:
                reason = f"{reason}; safe state failed for {'; '.join(failed)}"
            self.log(f"{step.label(i)} {status}: {reason}", "error")
            try:
                writer.set_metadata(safe_state=[o.as_dict() for o in outcomes])
            except Exception:  # the log has it; a broken file must not stop the close
                log.exception("could not store the safe state in the run file")
            self._record(status, reason=reason, safe_state=[o.as_dict() for o in outcomes])
        writer.close(status, reason)
        self.save_step_state(i, status, ctx.resume_state)
        self.emit({"type": "step_finished", "step": i, "path": str(path), "status": status,
                   "points": ctx.n_points})
        return status, reason

    def _reconnect_for_retry(self, label: str, exc: BaseException,
                             retries: int) -> tuple[int, BaseException | None, str]:
        """After link fault ``exc``: reconnect, counting each attempt as one retry (the log
        says "retry k of N", the final reason "after k retries"). Returns (retries, None,
        "link") once reconnected, else (retries, the last error, its kind)."""
        while retries < self.max_retries:
            retries += 1
            self.log(f"{label}: link fault: {type(exc).__name__}: {exc}; reconnecting "
                     f"(retry {retries} of {self.max_retries})", "warning")
            try:
                self.station.reconnect()
                return retries, None, "link"
            except Exception as again:
                exc = again
                if classify(again) != "link":  # e.g. a refusal while reopening
                    return retries, again, classify(again)
        return retries, exc, "link"

    def _safe_state(self) -> list[safety.SafeOutcome]:
        """Every instrument's safe action (never raises)."""
        try:
            return list(self.station.safe_state())
        except Exception as exc:  # report, never raise from the safety path
            return [safety.SafeOutcome("station", "safe state", False,
                                       f"{type(exc).__name__}: {exc}")]

    def _record(self, state: str, **fields: Any) -> None:
        """Update the data folder's instrument record (pcsdaq-instruments.json)."""
        safety.write_record(self.data_dir, state=state, **fields)
