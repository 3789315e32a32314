"""Main window: dashboard, procedure form and queue on the left; live plots, data browser and
log on the right. A view on the one run engine: events come in through a queued Qt bridge,
commands go out to the engine; no instrument I/O on the GUI thread."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PyQt6 import QtCore, QtWidgets

from pcsdaq.gui.alarms import Alarm, AlarmBanner, LogHandler, LogPanel, alarm_from_event
from pcsdaq.gui.dashboard import Dashboard
from pcsdaq.gui.data_browser import DataBrowser
from pcsdaq.gui.live_plots import LivePlots
from pcsdaq.gui.procedure_panel import ProcedurePanel
from pcsdaq.gui.queue_panel import QueuePanel
from pcsdaq.gui.watch import FolderWatcher
from pcsdaq.gui.watch_panel import WatchPanel

#: live plots are redrawn at most this often (points arrive much faster)
REDRAW_MS = 100
#: the longest the GUI thread spends on queued engine events in one go, s
DRAIN_BUDGET_S = 0.02


class EventBridge(QtCore.QObject):
    """Carries engine events (dicts) from the engine's worker thread into the Qt thread.

    Pass ``bridge.post`` to ``engine.subscribe``. Events are queued and handed to the GUI
    thread in batches: the first event of a batch wakes the GUI thread (one queued signal),
    which then calls each of ``handlers`` (and emits ``posted``, if connected) for every
    event queued by then, in order. One wake-up per batch rather than per point, and plain
    calls rather than a signal per event: with the engine's thread running flat out, each
    pass through Qt costs the GUI thread a wait for the interpreter lock (up to the 5 ms
    switch interval), and a backlog of single-point wake-ups stalled it for 100-300 ms
    (benchmarks/bench_gui.py).
    """

    #: named ``posted``, not ``event``: a signal called ``event`` would shadow QObject.event
    posted = QtCore.pyqtSignal(dict)
    _wake = QtCore.pyqtSignal()

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: collections.deque[dict] = collections.deque()
        self._lock = threading.Lock()
        self._scheduled = False
        #: called on the GUI thread with each event
        self.handlers: list[Callable[[dict], None]] = []
        self._wake.connect(self.drain,  # type: ignore[call-arg]  # stubs lack the type
                           QtCore.Qt.ConnectionType.QueuedConnection)

    def post(self, event: dict) -> None:
        """Thread-safe: queue ``event`` for the GUI thread."""
        with self._lock:
            self._queue.append(dict(event))
            if self._scheduled:
                return
            self._scheduled = True
        self._wake.emit()

    def drain(self) -> None:
        """On the GUI thread: emit ``posted`` for the queued events, oldest first, for at
        most DRAIN_BUDGET_S; what is left waits for the next turn of the event loop (timers
        and paints go first)."""
        deadline = time.perf_counter() + DRAIN_BUDGET_S
        while True:
            with self._lock:
                if not self._queue:
                    self._scheduled = False
                    return
                event = self._queue.popleft()
            for handler in self.handlers:
                handler(event)
            if self.receivers(self.posted):
                self.posted.emit(event)
            if time.perf_counter() > deadline:
                break
        self._wake.emit()  # the rest after the events already waiting (still scheduled)


class MainWindow(QtWidgets.QMainWindow):
    """Cooldown window; ``settings`` (a QSettings) remembers the window size, the last run
    folder (data browser) and the last plan folder (queue)."""

    def __init__(self, engine=None, parent=None, settings: QtCore.QSettings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("pcsdaq")
        self.engine = engine
        self.settings = settings or QtCore.QSettings("pcsdaq", "pcsdaq")
        station = engine.station if engine is not None else None
        self.plots = LivePlots()
        self.segment = "run"
        self.dashboard = Dashboard(station)
        self.procedures = ProcedurePanel(station.config if station is not None else None)
        self.queue = QueuePanel(engine, settings=self.settings)
        self.procedures.step_ready.connect(self.queue.add_step)
        self.procedures.add_button.setEnabled(engine is not None and
                                              self.procedures.add_button.isEnabled())
        self.controls = self.queue.controls
        left = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        for w in (self.dashboard, self.procedures, self.queue):
            left.addWidget(w)
        tabs = QtWidgets.QTabWidget()
        tabs.addTab(self.plots.didv, "dI/dV vs V")
        tabs.addTab(self.plots.rt, "R vs T")
        tabs.addTab(self.plots.approach, "R vs steps")
        tabs.addTab(self.plots.t_time, "T vs time")
        self.browser = DataBrowser(settings=self.settings)
        tabs.addTab(self.browser, "Data browser")
        self.tabs = tabs
        self.log = LogPanel()
        right = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        right.addWidget(tabs)
        right.addWidget(self.log)
        right.setSizes([600, 150])
        main = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setSizes([360, 840])
        self.banner = AlarmBanner()  #: alarms until acknowledged, above everything
        central = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.banner)
        column.addWidget(main, 1)
        self.setCentralWidget(central)
        self.status_label = QtWidgets.QLabel("idle")
        self.progress = QtWidgets.QProgressBar()
        status, menus = self.statusBar(), self.menuBar()
        assert status is not None and menus is not None  # a QMainWindow makes both on demand
        status.addWidget(self.status_label)
        status.addPermanentWidget(self.progress)
        export = menus.addMenu("&File")
        assert export is not None
        export.addAction("Export plot as PNG...", self.export_dialog)
        export.addAction("Watch folder...", self.watch_dialog)
        self.watcher: FolderWatcher | None = None  #: follows a watched headless run
        self.watch_panel: WatchPanel | None = None
        self.bridge = EventBridge()
        self.bridge.handlers.append(self.on_event)
        self.queue.message.connect(lambda m: self.log.append("error", m))
        self.dashboard.alarm.connect(self.raise_alarm)
        self._log_handler = LogHandler(self.bridge.post)
        logging.getLogger("pcsdaq").addHandler(self._log_handler)
        if engine is not None:
            engine.subscribe(self.bridge.post)
        self.redraw = QtCore.QTimer(self)
        self.redraw.timeout.connect(self.plots.refresh)
        self.redraw.start(REDRAW_MS)
        size = self.settings.value("window_size")
        if isinstance(size, QtCore.QSize):
            self.resize(size)

    def on_event(self, ev: dict) -> None:
        """Apply one engine event on the GUI thread."""
        kind = ev.get("type")
        if kind in ("status", "run_started", "progress", "step_finished"):
            self.queue.on_event(ev)
        alarm = alarm_from_event(ev)
        if alarm is not None:
            self.raise_alarm(alarm, log=False)  # the engine logs its failures itself
        if kind == "segment":
            self.segment = self.plots.begin_segment(int(ev.get("step", 0)), str(ev["name"]),
                                                    ev.get("attrs", {}), ev.get("start_time"))
        elif kind == "rows":  # a block of rows from a watched run file
            self.plots.ingest_columns(str(ev.get("segment", self.segment)), ev["columns"])
            if self.watch_panel is not None:
                self.watch_panel.on_event(ev)
        elif kind == "point":
            row = ev.get("row", {})
            self.plots.ingest_row(self.segment, row)
            self.dashboard.show_point(row)
        elif kind == "live_fit":
            self.plots.live_fit(ev)
        elif kind == "progress":
            self.progress.setValue(int(100 * float(ev.get("overall_fraction", 0.0))))
        elif kind == "status":
            text = f"{ev.get('state')} {ev.get('reason') or ''}".strip()
            self.status_label.setText(text if len(text) <= 140 else text[:139] + "…")
            self.status_label.setToolTip(text)  # the whole reason; the banner has it too
            self.status_label.setStyleSheet("color: #b00020" if ev.get("state") == "failed"
                                            else "")
            if ev.get("state") in ("finished", "aborted", "failed"):
                self.plots.finish()
        elif kind == "log":
            self.log.append(str(ev.get("level", "info")), str(ev.get("message")))
        elif kind == "step_finished":
            self.plots.end_segment()
        if kind in ("queue", "run_started", "step_finished", "alarm") and \
                self.watch_panel is not None:
            self.watch_panel.on_event(ev)
        if kind == "run_started":
            self.log.append("info", f"run started: {ev.get('procedure')} -> {ev.get('path')}")
            self.settings.setValue("last_run_dir", str(Path(str(ev.get("path", ""))).parent))

    def raise_alarm(self, alarm: Alarm, log: bool = True) -> None:
        """Show ``alarm`` in the banner until acknowledged (one banner line per kind) and,
        unless the engine logged it already, as one log line."""
        if alarm.kind not in self.banner.kinds():
            self.banner.raise_alarm(alarm)
        if log:
            self.log.append("error", alarm.summary(), alarm.when)

    def watch_folder(self, folder: str) -> None:
        """Follow the run files a headless ``pcsdaq run`` writes into ``folder`` (read only,
        no instrument opened): same plots, its queue and alarms in a dock."""
        self.stop_watching()
        self.watch_panel = WatchPanel(folder)
        dock = QtWidgets.QDockWidget("Watched run", self)
        dock.setWidget(self.watch_panel)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.watch_dock = dock
        self.setWindowTitle(f"pcsdaq - watching {folder}")
        watcher = FolderWatcher(folder, self.bridge.post)
        watcher.start()
        self.watcher = watcher

    def stop_watching(self) -> None:
        """Stop following a watched folder (if any)."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
            self.removeDockWidget(self.watch_dock)
            self.watch_panel = None

    def watch_dialog(self) -> None:
        """Ask for a data folder and watch it."""
        folder = QtWidgets.QFileDialog.getExistingDirectory(
            self, "Watch a data folder", str(self.settings.value("last_run_dir", "")))
        if folder:
            self.watch_folder(folder)

    def export_dialog(self) -> None:
        """Save the visible plot as a PNG."""
        widget = self.tabs.currentWidget()
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export PNG", "", "PNG (*.png)")
        if path and widget is not None:
            widget.grab().save(path, "PNG")

    def closeEvent(self, event) -> None:
        """Remember the window size; stop the dashboard timer."""
        self.settings.setValue("window_size", self.size())
        self.dashboard.timer.stop()
        self.stop_watching()
        logging.getLogger("pcsdaq").removeHandler(self._log_handler)
        pool = QtCore.QThreadPool.globalInstance()
        if pool is not None:  # no reading or fit may signal this window once it is gone
            pool.waitForDone(10000)
        super().closeEvent(event)
