"""The watched run's queue: one row per plan step with its status (from the run's state
file), the file each step writes and its point count (from the run files), and the alarms
found in them (failed / aborted steps, flags). Fed by :class:`~pcsdaq.gui.watch.FolderWatcher`
events on the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PyQt6 import QtGui, QtWidgets

COLUMNS = ("Step", "Status", "Points", "Name", "File")
STATUS_COLOURS = {"running": "#cfe8ff", "finished": "#d8f5d0", "failed": "#ffc9c9",
                  "aborted": "#ffe0b0", "paused": "#fff3b0"}


class WatchPanel(QtWidgets.QGroupBox):
    """Queue table and alarm list of a watched headless run."""

    def __init__(self, folder: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(f"Watching {folder}", parent)
        lay = QtWidgets.QVBoxLayout(self)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        assert header is not None
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        vertical = self.table.verticalHeader()
        assert vertical is not None
        vertical.setVisible(False)
        lay.addWidget(self.table, 1)
        lay.addWidget(QtWidgets.QLabel("Alarms recorded in the run"))
        self.alarms = QtWidgets.QListWidget()
        self.alarms.setMaximumHeight(90)
        lay.addWidget(self.alarms)
        self.points: dict[int, int] = {}

    def _row(self, step: int) -> int:
        while self.table.rowCount() <= step:
            r = self.table.rowCount()
            self.table.insertRow(r)
            for c in range(len(COLUMNS)):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(""))
            self._set(r, 0, str(r + 1))
            self._set(r, 1, "queued")
        return step

    def _set(self, row: int, col: int, text: str) -> None:
        item = self.table.item(row, col)
        if item is not None:
            item.setText(text)

    def status_of(self, step: int) -> str:
        """Shown status of ``step`` (0-based)."""
        item = self.table.item(step, 1)
        return item.text() if item is not None else ""

    def set_status(self, step: int, status: str) -> None:
        """Show ``status`` for ``step``, the row coloured by it."""
        r = self._row(step)
        self._set(r, 1, status)
        colour = QtGui.QColor(STATUS_COLOURS.get(status, "#ffffff"))
        for c in range(len(COLUMNS)):
            item = self.table.item(r, c)
            if item is not None:
                item.setBackground(colour)

    def on_event(self, ev: dict) -> None:
        """Apply one watcher event."""
        kind = ev.get("type")
        if kind == "queue":
            for s in ev.get("steps", []):
                r = self._row(int(s["step"]))
                self._set(r, 3, str(s.get("name", "")))
                if self.status_of(r) not in ("failed", "aborted") or s["status"] != "running":
                    self.set_status(r, str(s["status"]))
        elif kind == "run_started":
            r = self._row(int(ev.get("step", 0)))
            self._set(r, 4, Path(str(ev.get("path", ""))).name)
            if self.status_of(r) == "queued":
                self.set_status(r, "running")
        elif kind == "rows":
            step = int(ev.get("step", 0))
            cols = ev.get("columns") or {}
            n = len(next(iter(cols.values()))) if cols else 0
            self.points[step] = self.points.get(step, 0) + n
            self._set(self._row(step), 2, str(self.points[step]))
        elif kind == "step_finished":
            step = int(ev.get("step", 0))
            self.set_status(step, str(ev.get("status", "finished")))
            if ev.get("status") != "finished":
                self.alarms.addItem(f"step {step + 1} {ev.get('status')}: {ev.get('reason')}")
        elif kind == "alarm":
            self.alarms.addItem(f"step {int(ev.get('step', 0)) + 1}: {ev.get('message')}")
