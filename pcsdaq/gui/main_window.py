"""Main window: live plots plus a log, fed by engine events through a Qt bridge."""

from __future__ import annotations

from PyQt6 import QtCore, QtWidgets

from pcsdaq.gui.live_plots import LivePlots
from pcsdaq.gui.queue_panel import RunControls


class EventBridge(QtCore.QObject):
    """Carries engine events (dicts) from the engine's worker thread into the Qt thread.

    Pass ``bridge.post`` to ``engine.subscribe``; the signal is delivered with a queued
    connection, so slots run on the GUI thread.
    """

    event = QtCore.pyqtSignal(dict)

    def post(self, event: dict) -> None:
        """Thread-safe: emit ``event`` for the GUI thread."""
        self.event.emit(dict(event))


class MainWindow(QtWidgets.QMainWindow):
    """Cooldown window: dI/dV, R(T), T(t) plots, run status and a log."""

    def __init__(self, engine=None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("pcsdaq")
        self.engine = engine
        self.plots = LivePlots()
        self.segment = "run"
        tabs = QtWidgets.QTabWidget()
        tabs.addTab(self.plots.didv, "dI/dV vs V")
        tabs.addTab(self.plots.rt, "R vs T")
        tabs.addTab(self.plots.t_time, "T vs time")
        self.log = QtWidgets.QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(5000)
        self.status_label = QtWidgets.QLabel("idle")
        self.progress = QtWidgets.QProgressBar()
        self.controls = RunControls(engine)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        split.addWidget(self.controls)
        split.addWidget(tabs)
        split.addWidget(self.log)
        split.setSizes([40, 600, 150])
        self.setCentralWidget(split)
        self.statusBar().addWidget(self.status_label)
        self.statusBar().addPermanentWidget(self.progress)
        self.bridge = EventBridge()
        self.bridge.event.connect(self.on_event, QtCore.Qt.ConnectionType.QueuedConnection)
        if engine is not None:
            engine.subscribe(self.bridge.post)

    def on_event(self, ev: dict) -> None:
        """Apply one engine event on the GUI thread."""
        kind = ev.get("type")
        if kind == "segment":
            self.segment = str(ev.get("name", self.segment))
        elif kind == "point":
            self.plots.ingest_row(self.segment, ev.get("row", {}))
        elif kind == "progress":
            self.progress.setValue(int(100 * float(ev.get("overall_fraction", 0.0))))
        elif kind == "status":
            self.status_label.setText(f"{ev.get('state')} {ev.get('reason') or ''}".strip())
        elif kind == "log":
            self.log.appendPlainText(f"[{ev.get('level')}] {ev.get('message')}")
        elif kind == "run_started":
            self.log.appendPlainText(f"run started: {ev.get('procedure')} -> {ev.get('path')}")
