"""Queue and run controls: the engine's queue (add, reorder, remove, load/save a plan) and
start, pause, resume, abort. Every action is a command to the one run engine."""

from __future__ import annotations

from PyQt6 import QtCore, QtWidgets

from pcsdaq.errors import PcsdaqError


class RunControls(QtWidgets.QWidget):
    """Buttons that call ``engine.start/pause/resume/abort``; disabled without an engine."""

    def __init__(self, engine=None, parent=None) -> None:
        super().__init__(parent)
        self.engine = engine
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for name in ("start", "pause", "resume", "abort"):
            btn = QtWidgets.QPushButton(name.capitalize())
            btn.setEnabled(engine is not None)
            btn.clicked.connect(lambda _=False, n=name: self._command(n))
            lay.addWidget(btn)
            self.buttons[name] = btn
        lay.addStretch(1)

    def _command(self, name: str) -> None:
        if self.engine is None:
            return
        if name == "abort":
            self.engine.abort("aborted from the GUI")
        elif name == "start":
            self.engine.start()
        else:
            getattr(self.engine, name)()


class QueuePanel(QtWidgets.QGroupBox):
    """The engine's queue as a list with add/remove/reorder/load/save, plus run controls."""

    message = QtCore.pyqtSignal(str)

    def __init__(self, engine=None, parent=None, settings=None) -> None:
        super().__init__("Queue", parent)
        self.engine = engine
        self.settings = settings  #: QSettings remembering the last plan folder (or None)
        lay = QtWidgets.QVBoxLayout(self)
        self.list = QtWidgets.QListWidget()
        lay.addWidget(self.list, 1)
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
        lay.addWidget(self.controls)
        self.refresh()

    def refresh(self) -> None:
        """Show the engine's queue."""
        self.list.clear()
        if self.engine is None:
            return
        for i, step in enumerate(self.engine.queue):
            params = ", ".join(f"{k}={v}" for k, v in step.parameters.items())
            self.list.addItem(f"{step.label(i)}  {params}")

    def add_step(self, step) -> None:
        """Append a (validated) step to the engine's queue."""
        try:
            self.engine.enqueue(step)
        except PcsdaqError as exc:
            self.message.emit(str(exc))
        self.refresh()

    def _selected(self) -> int:
        return self.list.currentRow()

    def remove_selected(self) -> None:
        """Remove the selected step."""
        i = self._selected()
        if i >= 0:
            self.engine.remove(i)
            self.refresh()

    def move_up(self) -> None:
        """Move the selected step one place up."""
        i = self._selected()
        if i > 0:
            self.engine.move(i, i - 1)
            self.refresh()
            self.list.setCurrentRow(i - 1)

    def move_down(self) -> None:
        """Move the selected step one place down."""
        i = self._selected()
        if 0 <= i < len(self.engine.queue) - 1:
            self.engine.move(i, i + 1)
            self.refresh()
            self.list.setCurrentRow(i + 1)

    def load_plan(self, path: str) -> None:
        """Replace the queue with a plan file's steps (refused plans leave it unchanged)."""
        try:
            self.engine.load_plan(path)
        except PcsdaqError as exc:
            self.message.emit(str(exc))
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
        if path:
            self._remember(path)
            self.engine.save_plan(path)

    def _last_dir(self) -> str:
        return str(self.settings.value("last_plan_dir", "")) if self.settings is not None else ""

    def _remember(self, path: str) -> None:
        if self.settings is not None:
            from pathlib import Path

            self.settings.setValue("last_plan_dir", str(Path(path).parent))
