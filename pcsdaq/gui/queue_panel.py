"""Queue and run controls: the engine's queue as a table (one row per step: what it does,
its status, progress, estimated duration, elapsed and remaining time) with add, reorder,
edit and remove of the steps not yet started, load/save a plan, and start, pause, resume,
abort. Every action is a command to the one run engine; the table follows its events."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from PyQt6 import QtCore, QtGui, QtWidgets

from pcsdaq.errors import PcsdaqError
from pcsdaq.gui.queue_model import QueueTracker, step_summary
from pcsdaq.runner.plan import PlanStep, format_duration

if TYPE_CHECKING:
    from pcsdaq.runner.engine import RunEngine

#: which buttons act in which engine state
BUTTON_STATES = {"start": ("idle", "finished", "aborted", "failed"),
                 "pause": ("running",), "resume": ("paused",), "abort": ("running", "paused")}
#: status -> (text colour, row background of the running step)
STATUS_COLOURS = {"queued": "#606060", "running": "#0050b0", "paused": "#c06000",
                  "finished": "#1a7f37", "failed": "#b00020", "aborted": "#b05000"}
RUNNING_ROW = "#fff3c4"
COLUMNS = ("#", "Step", "Setup", "Status", "Progress", "Estimate", "Elapsed", "Remaining")


class RunControls(QtWidgets.QWidget):
    """Buttons that call ``engine.start/pause/resume/abort``, each enabled only in the engine
    states where it acts (:data:`BUTTON_STATES`); all disabled without an engine. A refused
    command (e.g. start while running) is emitted as ``message``, never raised into Qt."""

    message = QtCore.pyqtSignal(str)

    def __init__(self, engine: RunEngine | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for name in ("start", "pause", "resume", "abort"):
            btn = QtWidgets.QPushButton(name.capitalize())
            btn.clicked.connect(lambda _=False, n=name: self._command(n))
            lay.addWidget(btn)
            self.buttons[name] = btn
        lay.addStretch(1)
        self.set_state(str(getattr(engine, "state", "idle")))

    def set_state(self, state: str) -> None:
        """Enable the buttons that act in engine state ``state``."""
        self.state = state
        for name, btn in self.buttons.items():
            btn.setEnabled(self.engine is not None and state in BUTTON_STATES[name])

    def _command(self, name: str) -> None:
        if self.engine is None:
            return
        try:
            if name == "abort":
                self.engine.abort("aborted from the GUI")
            elif name == "start":
                self.set_state("starting")  # until the engine's "running" event arrives
                self.engine.start()
            else:
                getattr(self.engine, name)()
        except PcsdaqError as exc:
            self.message.emit(f"{name}: {exc}")
            self.set_state(str(getattr(self.engine, "state", "idle")))


class _SetupDelegate(QtWidgets.QStyledItemDelegate):
    """Edits a queued step's parameters as YAML (``{n_points: 101}``) in the Setup cell."""

    def __init__(self, panel: QueuePanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def setEditorData(self, editor: QtWidgets.QWidget | None,
                      index: QtCore.QModelIndex) -> None:
        if isinstance(editor, QtWidgets.QLineEdit):
            editor.setText(str(index.data(QtCore.Qt.ItemDataRole.UserRole) or "{}"))

    def setModelData(self, editor: QtWidgets.QWidget | None, model: Any,
                     index: QtCore.QModelIndex) -> None:
        if isinstance(editor, QtWidgets.QLineEdit):
            self.panel.edit_step(index.row(), editor.text())


class QueuePanel(QtWidgets.QGroupBox):
    """The engine's queue as a table with add/remove/reorder/edit/load/save, the whole
    queue's remaining time and expected end, and the run controls. Feed it the engine's
    events with :meth:`on_event` (GUI thread)."""

    message = QtCore.pyqtSignal(str)

    def __init__(self, engine: RunEngine | None = None, parent: QtWidgets.QWidget | None = None,
                 settings: QtCore.QSettings | None = None) -> None:
        super().__init__("Queue", parent)
        self.engine = engine
        self.settings = settings  #: QSettings remembering the last plan folder (or None)
        self.tracker = QueueTracker()
        self._described: dict[str, tuple[str, float]] = {}
        self._texts: dict[tuple[int, int], str] = {}  #: (row, col) -> the text shown
        lay = QtWidgets.QVBoxLayout(self)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked)
        self.table.setItemDelegateForColumn(2, _SetupDelegate(self))
        vh = self.table.verticalHeader()
        if vh is not None:
            vh.setVisible(False)
        hh = self.table.horizontalHeader()
        if hh is not None:
            # sized on demand (_fit_columns): ResizeToContents would measure every cell
            # again on each change, tens of ms per rebuild on the GUI thread
            hh.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        self.summary = QtWidgets.QLabel("")
        lay.addWidget(self.summary)
        row = QtWidgets.QHBoxLayout()
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for name, slot in (("up", self.move_up), ("down", self.move_down),
                           ("remove", self.remove_selected), ("load plan", self.load_dialog),
                           ("save plan", self.save_dialog)):
            btn = QtWidgets.QPushButton(name.capitalize())
            btn.clicked.connect(slot)
            row.addWidget(btn)
            self.buttons[name] = btn
        lay.addLayout(row)
        self.controls = RunControls(engine)
        self.controls.message.connect(self.message.emit)
        lay.addWidget(self.controls)
        self.clock = QtCore.QTimer(self)  #: ticks the elapsed/remaining times while running
        self.clock.timeout.connect(self.update_times)
        self.clock.start(1000)
        self.refresh()

    # --- the table ------------------------------------------------------------------------
    def _describe(self, step: PlanStep) -> tuple[str, float]:
        """(setup summary, estimated duration in s) of a step, cached: building a procedure
        costs milliseconds, and the table is rebuilt whenever the queue changes."""
        key = json.dumps([step.procedure, step.parameters], sort_keys=True, default=str)
        if key not in self._described:
            from pcsdaq.runner.plan import estimate_plan_duration_s

            estimate = (estimate_plan_duration_s([step], self.engine.station.config)[0]
                        if self.engine is not None else 0.0)
            if len(self._described) > 1000:
                self._described.clear()
            self._described[key] = (step_summary(step), estimate)
        return self._described[key]

    def refresh(self) -> None:
        """Rebuild the table from the engine's queue and the run's step states."""
        steps = self._queue()
        if steps is None:
            return  # the engine did not answer: the table stays as it was
        described = [self._describe(step) for step in steps]
        self.tracker.resize(len(steps), [d[1] for d in described])
        self.table.setRowCount(len(steps))
        self._texts.clear()
        for i, step in enumerate(steps):
            cells = [str(i + 1), step.name or step.procedure, described[i][0]]
            for col in range(len(COLUMNS)):
                item = QtWidgets.QTableWidgetItem(cells[col] if col < len(cells) else "")
                if col == 2:
                    item.setData(QtCore.Qt.ItemDataRole.UserRole,
                                 yaml.safe_dump(step.parameters, default_flow_style=True,
                                                width=1000).strip())
                self.table.setItem(i, col, item)
            self._show_row(i)
        self.update_times()
        self._fit_columns()

    def _fit_columns(self) -> None:
        for col in range(len(COLUMNS)):
            if col != 2:
                self.table.resizeColumnToContents(col)

    def _set_text(self, row: int, col: int, text: str) -> None:
        """Set a cell's text only when it changed: while a step runs the engine thread holds
        the GIL between Qt calls, so every call saved keeps the GUI thread quick."""
        if self._texts.get((row, col)) == text:
            return
        item = self.table.item(row, col)
        if item is not None:
            item.setText(text)
            self._texts[(row, col)] = text

    def _show_row(self, i: int) -> None:
        t = self.tracker
        status = t.status[i]
        colour = QtGui.QColor(STATUS_COLOURS.get(status, "#000000"))
        texts = {3: status, 4: f"{100 * t.fraction[i]:.0f} %",
                 5: format_duration(t.estimate[i]) if t.estimate[i] > 0 else "-"}
        for col, text in texts.items():
            self._set_text(i, col, text)
        status_item = self.table.item(i, 3)
        if status_item is not None:
            status_item.setForeground(QtGui.QBrush(colour))
        flags = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
        for col in range(len(COLUMNS)):  # only a step not yet started is edited
            item = self.table.item(i, col)
            editable = col == 2 and status == "queued"
            if item is not None:
                item.setFlags(flags | QtCore.Qt.ItemFlag.ItemIsEditable if editable else flags)
                if col == 2:
                    item.setToolTip("double-click to edit the parameters (YAML)"
                                    if editable else "")
        active = status in ("running", "paused")
        back = QtGui.QBrush(QtGui.QColor(RUNNING_ROW)) if active else QtGui.QBrush()
        for col in range(len(COLUMNS)):
            item = self.table.item(i, col)
            if item is not None:
                item.setBackground(back)
                font = item.font()
                font.setBold(active)
                item.setFont(font)

    def update_times(self) -> None:
        """Elapsed and remaining time per step; the queue's remaining time and end."""
        t, now = self.tracker, time.monotonic()
        for i in range(min(len(t.status), self.table.rowCount())):
            elapsed = t.elapsed_s(i, now)
            remaining = t.remaining_s(i, now)
            for col, value in ((6, elapsed), (7, remaining)):
                self._set_text(i, col, "-" if value is None else format_duration(value))
        left = t.queue_remaining_s(now)
        n = len(t.status)
        if n == 0:
            text = "queue empty"
        elif math.isfinite(left):
            end = datetime.now() + timedelta(seconds=left)
            text = (f"{n} step{'s' if n != 1 else ''}, {t.count('finished')} finished; "
                    f"remaining about {format_duration(left)}, expected end {end:%H:%M}")
        else:
            text = f"{n} steps"
        if self.summary.text() != text:
            self.summary.setText(text)

    def on_event(self, ev: dict) -> None:
        """Follow one engine event (GUI thread)."""
        changed = self.tracker.on_event(ev, time.monotonic())
        if ev.get("type") == "status":
            self.controls.set_state(str(ev.get("state")))
        for i in changed:
            if i >= self.table.rowCount():
                continue
            if ev.get("type") == "progress":
                self._set_text(i, 4, f"{100 * self.tracker.fraction[i]:.0f} %")
            else:
                self._show_row(i)
        if changed:
            self.update_times()
            if ev.get("type") != "progress":
                self._fit_columns()

    # --- editing the queue ----------------------------------------------------------------
    def _call(self, name: str, *args: Any) -> bool:
        """``engine.name(*args)``; a refusal, an engine that does not answer (its process
        ended) or a plan file that cannot be written is a message, never an exception out of
        a Qt slot. True when it was done."""
        if self.engine is None:
            return False
        try:
            getattr(self.engine, name)(*args)
        except (PcsdaqError, OSError) as exc:
            self.message.emit(f"{name.replace('_', ' ')}: {exc}")
            return False
        return True

    def _queue(self) -> list[PlanStep] | None:
        """A copy of the engine's queue ([] without an engine; None, and a message, when the
        engine does not answer)."""
        if self.engine is None:
            return []
        try:
            return list(self.engine.queue)
        except PcsdaqError as exc:
            self.message.emit(f"queue: {exc}")
            return None

    def add_step(self, step: PlanStep) -> None:
        """Append a (validated) step to the engine's queue."""
        if self.engine is None:
            return
        self._call("enqueue", step)
        self.refresh()

    def _selected(self) -> int:
        return self.table.currentRow()

    def _movable(self, *rows: int) -> bool:
        """True when every row is a step not yet started (else says so)."""
        if all(0 <= r < len(self.tracker.status) and self.tracker.status[r] == "queued"
               for r in rows):
            return True
        self.message.emit("only steps that have not started can be moved, edited or removed")
        return False

    def select_row(self, row: int) -> None:
        """Select the step at ``row``."""
        self.table.setCurrentCell(row, 0)

    def remove_selected(self) -> None:
        """Remove the selected step (not started yet)."""
        i = self._selected()
        if self.engine is not None and i >= 0 and self._movable(i) and self._call("remove", i):
            self.tracker.remove(i)
            self.refresh()

    def move_up(self) -> None:
        """Move the selected step one place up (both steps not started yet)."""
        i = self._selected()
        if self.engine is not None and i > 0 and self._movable(i, i - 1) and \
                self._call("move", i, i - 1):
            self.refresh()
            self.select_row(i - 1)

    def move_down(self) -> None:
        """Move the selected step one place down (both steps not started yet)."""
        i = self._selected()
        if self.engine is not None and 0 <= i < self.table.rowCount() - 1 \
                and self._movable(i, i + 1) and self._call("move", i, i + 1):
            self.refresh()
            self.select_row(i + 1)

    def edit_step(self, row: int, text: str) -> bool:
        """Replace the parameters of the queued step at ``row`` by ``text`` (a YAML mapping);
        refused (message, queue unchanged) for a started step or parameters that cannot run."""
        if self.engine is None or not self._movable(row):
            return False
        queue = self._queue()
        if queue is None or row >= len(queue):
            return False
        old = queue[row]
        try:
            params = yaml.safe_load(text) or {}
            if not isinstance(params, dict):
                raise PcsdaqError(f"{text!r}: parameters are a mapping {{key: value}}")
            from pcsdaq.runner.plan import validate_plan

            new = PlanStep(old.procedure, params, old.name)
            problems = validate_plan([new], self.engine.station.config)
            if problems:
                raise PcsdaqError("; ".join(problems))
        except (yaml.YAMLError, PcsdaqError) as exc:
            self.message.emit(f"step {row + 1} not changed: {exc}")
            QtCore.QTimer.singleShot(0, self.refresh)
            return False
        done = self._call("replace", row, new)
        QtCore.QTimer.singleShot(0, self.refresh)  # not inside the delegate's commit
        return done

    def load_plan(self, path: str) -> None:
        """Replace the queue with a plan file's steps (refused plans leave it unchanged)."""
        if self.engine is None:
            return
        if self._call("load_plan", path):
            self.tracker.reset()
        self.refresh()

    def load_dialog(self) -> None:
        """Ask for a plan file and load it."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load plan", self._last_dir(),
                                                        "Plans (*.yaml)")
        if path:
            self._remember(path)
            self.load_plan(path)

    def save_dialog(self) -> None:
        """Ask for a file name and save the queue as a plan."""
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save plan", self._last_dir(),
                                                        "Plans (*.yaml)")
        if path and self.engine is not None:
            self._remember(path)
            self._call("save_plan", path)

    def _last_dir(self) -> str:
        return str(self.settings.value("last_plan_dir", "")) if self.settings is not None else ""

    def _remember(self, path: str) -> None:
        if self.settings is not None:
            self.settings.setValue("last_plan_dir", str(Path(path).parent))
