"""The run engine in a process of its own, for the GUI (``pcsdaq gui``).

Why: the window and the measurement fail separately. If the GUI is closed or killed (even
``kill -9``), the child sees its command pipe close, aborts the run, puts the instruments in
their safe state and writes the reason into the run file; if the engine's process dies, the
window says so as an alarm and stays usable. And the engine's thread (drivers, transports,
run files, the simulated lab's physics when it runs in-process) no longer holds the
interpreter lock the GUI thread paints with (in one process the GUI thread's worst paints
took twice their CPU time waiting for it; benchmarks/bench_gui.py prints both arrangements).

:class:`RemoteEngine` offers the GUI what a :class:`~pcsdaq.runner.engine.RunEngine` does
(queue, start/pause/resume/abort, ``subscribe``, ``station.config``); the engine lives in a
*spawn* child process that owns the instruments. Commands go over one pipe and are answered
in order; the engine's events come back in batches over another and are handed to the
subscribers on a reader thread, as the engine's own thread would.
"""

from __future__ import annotations

import importlib
import logging
import math
import multiprocessing
import pickle
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pcsdaq.errors import LinkFault, PcsdaqError
from pcsdaq.runner.engine import publish
from pcsdaq.station import load_station_config, packaged_config

log = logging.getLogger("pcsdaq.gui")

#: how long the child may take to import, open the station and answer "ready", s
START_TIMEOUT_S = 120.0
#: how long a command may take to be answered (beyond a wait's own timeout), s
CALL_TIMEOUT_S = 30.0
#: how long closing waits for the run to reach its safe state and the child to end, s
CLOSE_TIMEOUT_S = 60.0
#: the RunEngine methods the child carries out (besides the reads of _carry_out)
_METHODS = frozenset({"enqueue", "remove", "move", "replace", "load_plan", "save_plan",
                      "start", "pause", "resume", "abort", "wait"})


# --- errors across the pipe -----------------------------------------------------------------
def _describe(exc: BaseException) -> tuple[str, str, str]:
    return type(exc).__module__, type(exc).__qualname__, str(exc)


def _rebuild(described: tuple[str, str, str]) -> Exception:
    """The child's exception, as the same class when it can be made from its message (so a
    caller's ``except PlanError`` still catches it), else a PcsdaqError with its name."""
    module, name, message = described
    try:
        cls = getattr(importlib.import_module(module), name)
        if isinstance(cls, type) and issubclass(cls, Exception):
            return cls(message)
    except Exception:  # an exception class that cannot be rebuilt from its message
        pass
    return PcsdaqError(f"{name}: {message}")


# --- the child ------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """``value`` made picklable: mappings and sequences copied, other objects as text."""
    if hasattr(value, "items"):  # dicts and read-only mappings
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    try:
        pickle.dumps(value)
        return value
    except Exception:
        return repr(value)


def _send_events(outbox: queue.SimpleQueue, events: Any) -> None:
    """Child's sender thread: the engine's events, in batches, until None."""
    while True:
        batch = [outbox.get()]
        while True:
            try:
                batch.append(outbox.get_nowait())
            except queue.Empty:
                break
        last = batch[-1] is None
        batch = [e for e in batch if e is not None]
        try:
            if batch:
                try:
                    events.send(batch)
                except (pickle.PicklingError, TypeError, AttributeError):
                    events.send([_plain(e) for e in batch])
        except (OSError, EOFError):  # the GUI is gone
            return
        if last:
            return


def _carry_out(engine: Any, name: str, args: tuple, kwargs: dict) -> Any:
    if name == "queue":
        return list(engine.queue)
    if name in ("state", "reason"):
        return getattr(engine, name)
    if name == "read_station":
        from pcsdaq.gui.dashboard import read_station

        return read_station(engine.station, *args, **kwargs)
    if name not in _METHODS:
        raise PcsdaqError(f"the engine process has no command {name!r}")
    return getattr(engine, name)(*args, **kwargs)


def _engine_main(commands: Any, events: Any, station_file: str, sim: bool, data_dir: str,
                 time_scale: float | None) -> None:
    """The child: open the station, build the engine, answer commands until "close" or until
    the GUI's end of the pipe closes; then abort, reach the safe state, close."""
    import signal

    from pcsdaq.gui.alarms import LogHandler
    from pcsdaq.gui.app import build_engine

    # Ctrl+C in the GUI's terminal reaches this process too: the GUI decides (its close
    # aborts the run here); a KeyboardInterrupt could cut the safe state short
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        engine, _lab, server = build_engine(station_file, sim, data_dir, time_scale)
    except BaseException as exc:  # the GUI's process says it in one line
        commands.send(("err", _describe(exc)))
        return
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    engine.subscribe(outbox.put)
    handler = LogHandler(outbox.put)  # the child's warnings reach the GUI's log panel
    logging.getLogger("pcsdaq").addHandler(handler)
    sender = threading.Thread(target=_send_events, args=(outbox, events),
                              name="pcsdaq-engine-events", daemon=True)
    sender.start()
    commands.send(("ok", None))
    reason = "the GUI closed"
    try:
        while True:
            try:
                name, args, kwargs = commands.recv()
            except (EOFError, OSError):
                reason = "the GUI's process ended"
                break
            if name == "close":
                break
            try:
                reply = ("ok", _carry_out(engine, name, args, kwargs))
            except Exception as exc:
                reply = ("err", _describe(exc))
            try:
                commands.send(reply)
            except (OSError, EOFError):
                reason = "the GUI's process ended"
                break
    finally:
        try:
            engine.abort(reason)
            engine.wait(CLOSE_TIMEOUT_S)
        finally:
            engine.station.close()
            if server is not None:
                server.close()
            logging.getLogger("pcsdaq").removeHandler(handler)
            outbox.put(None)
            sender.join(5.0)
            try:
                commands.send(("ok", None))
            except (OSError, EOFError):
                pass


# --- the GUI's side -------------------------------------------------------------------------
class RemoteStation:
    """What the GUI needs of the station while the engine's process owns it: ``config`` (the
    station file, read here too), a dashboard reading, and ``close`` (of the engine)."""

    def __init__(self, engine: RemoteEngine, config: Any) -> None:
        self._engine = engine
        self.config = config

    def read_dashboard(self, lock_timeout_s: float = 0.2) -> dict[str, Any] | None:
        """One dashboard reading (:func:`pcsdaq.gui.dashboard.read_station`) done in the
        engine's process; None when its station was busy or the engine did not answer."""
        try:
            return self._engine._call("read_station", lock_timeout_s=lock_timeout_s)
        except PcsdaqError:
            return None

    def close(self) -> None:
        """Close the engine (abort, safe state, instruments closed) and end its process."""
        self._engine.close()


class RemoteEngine:
    """A RunEngine in a child process (see the module's text), for ``pcsdaq gui``.

    ``station_file`` None: the packaged simulated station; ``sim``: run the file's simulated
    lab (in the child, in-process there); ``time_scale`` as ``pcsdaq gui --time-scale``.
    A bad station file raises ConfigError here, before a child starts; a station that
    cannot be opened raises the child's error (same class) once it has ended."""

    def __init__(self, station_file: str | None, sim: bool, data_dir: str | Path,
                 time_scale: float | None = None) -> None:
        path = station_file or str(packaged_config("station-sim.yaml"))
        config = load_station_config(path)  # one clear line for a bad file, nothing started
        ctx = multiprocessing.get_context("spawn")  # no fork of a process with Qt threads
        self._commands, child_commands = ctx.Pipe()
        self._events, child_events = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=_engine_main, name="pcsdaq-engine",
            args=(child_commands, child_events, station_file, sim, str(data_dir), time_scale))
        self.process.start()
        child_commands.close()
        child_events.close()
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[dict], None]] = []
        self._closed = False
        self._last_state = "idle"
        try:
            status, payload = self._receive(START_TIMEOUT_S, "open the station")
        except BaseException:
            self.process.kill()  # stuck starting: no station of it is in use
            self.process.join(10)
            raise
        if status == "err":
            self.process.join(10)
            raise _rebuild(payload)
        self.station = RemoteStation(self, config)
        self._reader = threading.Thread(target=self._read_events, name="pcsdaq-engine-reader",
                                        daemon=True)
        self._reader.start()

    # --- plumbing -----------------------------------------------------------------------
    def _receive(self, timeout_s: float, what: str) -> tuple[str, Any]:
        try:
            if not self._commands.poll(timeout_s):
                raise LinkFault(f"the engine's process did not {what} in {timeout_s:.0f} s")
            return self._commands.recv()
        except (EOFError, OSError):
            self.process.join(5)
            raise LinkFault(f"the engine's process ended (exit code {self.process.exitcode}) "
                            f"before it could {what}") from None

    def _call(self, name: str, *args: Any, timeout_s: float = CALL_TIMEOUT_S,
              **kwargs: Any) -> Any:
        """Carry out command ``name`` in the child; its exception is raised here."""
        with self._lock:
            if self._closed:
                raise PcsdaqError("the engine is closed")
            try:
                self._commands.send((name, args, kwargs))
            except (OSError, EOFError):
                raise LinkFault("the engine's process has ended") from None
            status, payload = self._receive(timeout_s, f"answer {name!r}")
        if status == "err":
            raise _rebuild(payload)
        return payload

    def _read_events(self) -> None:
        """Reader thread: hand each event to the subscribers; if the child ends without
        being closed, say so as a failed status (an alarm in the GUI)."""
        while True:
            try:
                batch = self._events.recv()
            except (EOFError, OSError):
                break
            for event in batch:
                if event.get("type") == "status":
                    self._last_state = str(event.get("state"))
                publish(self._subscribers, event)
        if not self._closed:
            self.process.join(5)
            reason = (f"the engine's process ended unexpectedly (exit code "
                      f"{self.process.exitcode}); the instruments are in the state it left "
                      f"them")
            publish(self._subscribers, {"type": "status", "state": "failed", "reason": reason})

    # --- what the GUI calls -------------------------------------------------------------
    def subscribe(self, callback: Callable[[dict], None]) -> None:
        """Call ``callback(event)`` for every engine event (from the reader thread)."""
        self._subscribers.append(callback)

    @property
    def state(self) -> str:
        """The engine's state (idle, running, paused, finished, aborted, failed)."""
        try:
            return str(self._call("state"))
        except PcsdaqError:
            return "failed" if not self.process.is_alive() else self._last_state

    @property
    def queue(self) -> list:
        """A copy of the queue (PlanSteps); change it with the methods below."""
        return list(self._call("queue"))

    def enqueue(self, step: Any) -> None:
        """Append a step (validated against the station; PlanError if it cannot run)."""
        self._call("enqueue", step)

    def remove(self, index: int) -> None:
        """Remove the step at ``index``."""
        self._call("remove", index)

    def move(self, index: int, new_index: int) -> None:
        """Move the step at ``index`` to ``new_index``."""
        self._call("move", index, new_index)

    def replace(self, index: int, step: Any) -> None:
        """Put ``step`` in place of the step at ``index`` (validated)."""
        self._call("replace", index, step)

    def load_plan(self, path: str | Path) -> None:
        """Replace the queue with a plan file's steps (validated)."""
        self._call("load_plan", str(path))

    def save_plan(self, path: str | Path) -> None:
        """Write the queue as a plan file."""
        self._call("save_plan", str(path))

    def start(self, resume: bool = False) -> None:
        """Run the queue (in the child's engine thread); returns at once."""
        self._call("start", resume)

    def pause(self) -> None:
        """Pause at the next point boundary."""
        self._call("pause")

    def resume(self) -> None:
        """Continue after a pause."""
        self._call("resume")

    def abort(self, reason: str = "aborted by the operator") -> None:
        """Stop at the next point boundary; safe state; files marked aborted."""
        if not self._closed:
            self._call("abort", reason)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait (at most ``timeout`` s; None: CLOSE_TIMEOUT_S) for the queue to finish; True
        when it did."""
        if self._closed:
            return True
        wait_s = CLOSE_TIMEOUT_S if timeout is None or not math.isfinite(timeout) else timeout
        return bool(self._call("wait", wait_s, timeout_s=wait_s + CALL_TIMEOUT_S))

    def close(self) -> None:
        """Abort a run, let the engine reach its safe state, close the instruments and end
        the child. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._commands.send(("close", (), {}))
                if self._commands.poll(CLOSE_TIMEOUT_S + 10):
                    self._commands.recv()
            except (OSError, EOFError):
                pass
        self.process.join(10)
        if self.process.is_alive():
            log.warning("the engine's process did not end; terminating it")
            self.process.terminate()
            self.process.join(10)
        self._commands.close()
