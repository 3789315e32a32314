"""Watch a headless run: follow the files a ``pcsdaq run`` in another process writes.

:class:`FolderWatcher` polls a data folder from its own thread (never the GUI thread) and
turns what it finds into the engine's own events, posted to a callback (the main window's
thread-safe bridge), so the same plots, queue and alarms show a watched run:

* each run file (``*.h5``, followed as an SWMR reader with
  :class:`~pcsdaq.storage.follow.RunFollower`): ``run_started``, ``segment`` (with the
  segment's clock start time), ``rows`` (a block of new rows, column -> array), and when
  its status record appears ``step_finished`` and, for a failed or aborted run, a
  ``status`` and an error ``log`` line with the reason; rows whose ``flags`` column is set
  (lock-in overload, unlock, invalid thermometer) give one ``alarm`` line per run; each
  new row of its live-fit table (``/entry/analysis/live``) a ``live_fit`` event, as the
  engine sends them (plus ``key``, the spectrum's curve key);
* the run's state file (``pcsdaq-run-*.state.json``): ``queue`` events with each step's
  status, and ``progress``;
* the run log (``pcsdaq-run-*.log``): its warnings and errors as ``log`` events, with
  their own time stamps.

No station is opened and nothing is written: the folder is only read. A file is closed as
soon as its status record appears, so the writer can finalize it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from PyQt6 import QtCore

from pcsdaq.errors import PcsdaqError
from pcsdaq.storage import layout as L
from pcsdaq.storage.follow import RunFollower

#: the run file's live-fit table (pcsdaq.runner.live_fit)
LIVE_GROUP = "entry/analysis/live"
#: how often the folder is read, ms
POLL_MS = 150
STATE_GLOB = "pcsdaq-run-*.state.json"
LOG_GLOB = "pcsdaq-run-*.log"
FLAG_WORDS = {1: "overload (re-measured less sensitive)", 2: "still overloaded",
              4: "lock-in overload latched", 8: "reference unlocked",
              16: "thermometer reading invalid"}
_STEP_IN_NAME = re.compile(r"_step(\d+)_")
_LOG_LINE = re.compile(r"^(\S+ \S+) (WARNING|ERROR|CRITICAL) (\S+): (.*)$")


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def flag_words(flags: int) -> str:
    """The lab's words for the bits of a ``flags`` column value."""
    return ", ".join(w for bit, w in FLAG_WORDS.items() if flags & bit) or f"flags {flags}"


class _Followed:
    """One run file being followed: its follower, current segment and queued segments."""

    def __init__(self, path: Path, follower: RunFollower, step: int) -> None:
        self.path, self.follower, self.step = path, follower, step
        self.segment = f"{step + 1}:main"
        self.segment_names: list[str] = []  #: segment names in file order
        self.segment_keys: list[str] = []  #: their curve keys
        self.live_rows = 0  #: rows of the live-fit table posted
        self.queued: list[tuple[int, str, dict]] = []
        self.flags_seen = 0
        self.failures = 0
        self.done = False


class FolderWatcher(QtCore.QObject):
    """Polls ``folder`` every POLL_MS in its own QThread; ``post(event)`` gets the events
    (from that thread: pass a thread-safe callback). ``start()`` / ``stop()``."""

    def __init__(self, folder: str | Path, post: Callable[[dict], None]) -> None:
        super().__init__()
        self.folder = Path(folder)
        self.post = post
        self.files: dict[Path, _Followed] = {}
        self.finished_files: set[Path] = set()
        self._state_text = ""
        self._log_pos: dict[Path, int] = {}
        self._thread = QtCore.QThread()
        self._thread.setObjectName("pcsdaq-watch")
        self.moveToThread(self._thread)
        self._timer: QtCore.QTimer | None = None
        self._thread.started.connect(self._begin)

    def start(self) -> None:
        """Start following the folder."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, close the files, end the thread (waits up to 5 s)."""
        QtCore.QMetaObject.invokeMethod(self, "_end",
                                        QtCore.Qt.ConnectionType.BlockingQueuedConnection)
        self._thread.quit()
        self._thread.wait(5000)

    @QtCore.pyqtSlot()
    def _begin(self) -> None:
        self.post({"type": "log", "level": "info",
                   "message": f"watching {self.folder} (read only, no instrument opened)"})
        self._timer = QtCore.QTimer()
        self._timer.timeout.connect(self.poll)
        self._timer.start(POLL_MS)
        self.poll()

    @QtCore.pyqtSlot()
    def _end(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        for f in self.files.values():
            f.follower.close()
        self.files.clear()

    # --- one poll -----------------------------------------------------------------------
    def poll(self) -> None:
        """Read what is new in the folder and post it (called by the timer)."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.h5"), key=lambda p: (p.stat().st_mtime, p)):
            if path not in self.files and path not in self.finished_files:
                self._open(path)
        for f in list(self.files.values()):
            try:
                self._follow(f)
            except (OSError, KeyError, ValueError, PcsdaqError) as exc:
                self._reopen(f, exc)
        self._read_state()
        self._read_logs()

    def _open(self, path: Path) -> None:
        try:
            follower = RunFollower(path)
        except (OSError, KeyError, ValueError, PcsdaqError):
            return  # being created, or not a run: try again at the next poll
        m = _STEP_IN_NAME.search(path.name)
        step = int(m.group(1)) - 1 if m else len(self.files) + len(self.finished_files)
        f = _Followed(path, follower, step)
        self.files[path] = f
        procedure = L.decode_attr(follower._file[L.ENTRY].attrs.get("procedure", ""))
        self.post({"type": "run_started", "step": step, "procedure": procedure,
                   "path": str(path), "columns": dict(follower.units)})

    def _reopen(self, f: _Followed, exc: BaseException) -> None:
        """A reader that opened the file before its writer switched to SWMR keeps stale
        metadata: open it afresh, continuing after the rows and segments already posted."""
        old = f.follower
        old.close()
        try:
            new = RunFollower(f.path)
        except (OSError, KeyError, ValueError, PcsdaqError):
            return  # next poll
        new.n_rows, new._n_segments = old.n_rows, old._n_segments
        f.follower = new
        f.failures += 1
        if f.failures == 20:  # say it once, when it lasts (3 s)
            self.post({"type": "log", "level": "warning",
                       "message": f"{f.path.name}: cannot read it yet ({exc}); retrying"})

    def _follow(self, f: _Followed) -> None:
        fol = f.follower
        status_ds = fol._file[L.STATUS_LOG] if L.STATUS_LOG in fol._file else None
        if status_ds is not None and fol._file.swmr_mode:
            status_ds.refresh()
        closed = status_ds is not None and status_ds.shape[0] > 0
        f.queued.extend(fol.new_segments())
        base = fol.n_rows
        cols = fol.poll()
        n = fol.n_rows
        start = base
        while f.queued and f.queued[0][0] <= n:
            first, name, attrs = f.queued.pop(0)
            self._rows(f, cols, start - base, max(first, start) - base)
            start = max(first, start)
            f.segment = f"{f.step + 1}:{name}"
            if attrs.get("temperature_K") is not None:
                f.segment = f"{f.segment} ({float(attrs['temperature_K']):.2f} K)"
            f.segment_names.append(name)
            f.segment_keys.append(f.segment)
            self.post({"type": "segment", "step": f.step, "name": name, "attrs": attrs,
                       "start_time": _epoch(attrs.get("start_time")), "key": f.segment})
        self._rows(f, cols, start - base, n - base)
        self._live_fits(f)
        if closed:
            assert status_ds is not None
            record = json.loads(status_ds.asstr()[-1])
            self._close(f, record)

    def _rows(self, f: _Followed, cols: dict[str, np.ndarray], i: int, j: int) -> None:
        if j <= i:
            return
        block = {c: v[i:j] for c, v in cols.items()}
        self.post({"type": "rows", "step": f.step, "segment": f.segment, "columns": block})
        flags = block.get("flags")
        if flags is not None:
            bits = int(np.bitwise_or.reduce(np.nan_to_num(flags).astype(np.int64)))
            new = bits & ~f.flags_seen
            if new:
                f.flags_seen |= new
                self.post({"type": "alarm", "kind": "flags", "step": f.step, "flags": new,
                           "message": f"{f.path.name}: {flag_words(new)}"})
                self.post({"type": "log", "level": "warning",
                           "message": f"{f.path.name}: {flag_words(new)}"})

    def _live_fits(self, f: _Followed) -> None:
        """Post the live-fit table's new rows whose spectrum has been posted."""
        group = f.follower._file.get(LIVE_GROUP)
        if group is None:
            return
        swmr = f.follower._file.swmr_mode
        columns = {}
        for name, ds in group.items():
            if swmr:
                ds.refresh()
            columns[name] = ds
        n = min((ds.shape[0] for ds in columns.values()), default=0)
        if n <= f.live_rows:
            return
        block = {name: (ds.asstr()[f.live_rows:n] if ds.dtype.kind == "O"
                        else ds[f.live_rows:n]) for name, ds in columns.items()}
        for i in range(n - f.live_rows):
            row = {k: (str(v[i]) if isinstance(v[i], str | bytes) else float(v[i]))
                   for k, v in block.items()}
            seg = row.get("segment", math.nan)
            index = int(seg) if math.isfinite(seg) else -1  # type: ignore[arg-type]
            if not 0 <= index < len(f.segment_keys):
                n = f.live_rows + i  # its spectrum's segment is not posted yet
                break
            self.post({"type": "live_fit", "step": f.step, **row,
                       "segment_name": f.segment_names[index],
                       "key": f.segment_keys[index]})
        f.live_rows = n

    def _close(self, f: _Followed, record: dict) -> None:
        status, reason = record.get("status", "finished"), record.get("reason") or ""
        f.follower.close()
        del self.files[f.path]
        self.finished_files.add(f.path)
        self.post({"type": "step_finished", "step": f.step, "path": str(f.path),
                   "status": status, "points": f.follower.n_rows, "reason": reason})
        if status != "finished":
            self.post({"type": "status", "state": status, "reason": reason})
            self.post({"type": "log", "level": "error",
                       "message": f"{f.path.name}: {status}: {reason}"})

    # --- state file and log -------------------------------------------------------------
    def _read_state(self) -> None:
        states = sorted(self.folder.glob(STATE_GLOB), key=lambda p: p.stat().st_mtime)
        if not states:
            return
        try:
            text = states[-1].read_text()
            state = json.loads(text)
        except (OSError, ValueError):
            return  # being replaced: next poll
        if text == self._state_text or not isinstance(state, dict):
            return
        self._state_text = text
        steps = state.get("steps", {})
        names = _plan_step_names(state.get("plan"), self.folder)
        n = max(len(names), max((int(k) + 1 for k in steps), default=0))
        rows = []
        for i in range(n):
            entry = steps.get(str(i), {})
            name = names[i] if i < len(names) else entry.get("procedure", "")
            rows.append({"step": i, "name": name, "procedure": entry.get("procedure", ""),
                         "status": entry.get("status", "queued")})
        self.post({"type": "queue", "steps": rows, "state": state.get("state", ""),
                   "plan": state.get("plan"), "file": states[-1].name})
        done = sum(r["status"] in ("finished", "failed", "aborted") for r in rows)
        if n:
            self.post({"type": "progress", "step": done, "fraction": math.nan,
                       "eta_s": math.nan, "overall_fraction": done / n,
                       "overall_eta_s": math.nan})
        run_state = state.get("state")
        if run_state in ("finished", "failed", "aborted"):
            self.post({"type": "status", "state": run_state, "reason": "(watched run)"})

    def _read_logs(self) -> None:
        for path in sorted(self.folder.glob(LOG_GLOB)):
            pos = self._log_pos.get(path, 0)
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    fh.seek(pos)
                    text = fh.read()
            except OSError:
                continue
            complete = text[: text.rfind("\n") + 1]
            self._log_pos[path] = pos + len(complete.encode("utf-8", errors="replace"))
            for line in complete.splitlines():
                m = _LOG_LINE.match(line)
                if m:
                    self.post({"type": "log", "level": m.group(2).lower(),
                               "message": m.group(4), "time": m.group(1)})


def _plan_step_names(plan: object, folder: Path) -> list[str]:
    """The step names of the plan a state file names (empty when it cannot be read)."""
    if not isinstance(plan, str) or not plan:
        return []
    from pcsdaq.runner.plan import load_plan

    for candidate in (Path(plan), folder / plan, folder.parent / plan):
        if candidate.is_file():
            try:
                return [s.name or s.procedure for s in load_plan(candidate).steps]
            except (PcsdaqError, OSError, ValueError):
                return []
    return []
