"""Alarms the operator must not miss, and the log they are written to.

An alarm (overload, lost connection, quench, heater fault, thermometer invalid, run failed)
shows in colour where its value is (the dashboard), in :class:`AlarmBanner` until the
operator acknowledges it, and as one timestamped line in :class:`LogPanel`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from PyQt6 import QtCore, QtWidgets

#: alarm kinds -> the words the banner starts with
ALARM_KINDS = {"overload": "Lock-in overload", "connection": "Lost connection",
               "quench": "Magnet QUENCH", "heater": "Heater fault",
               "thermometer": "Thermometer invalid", "run_failed": "Run failed"}
#: log levels in order; the filter shows a level and those above it
LEVELS = ("debug", "info", "warning", "error")
LEVEL_COLOURS = {"debug": "#808080", "info": "#000000", "warning": "#b06000",
                 "error": "#b00020"}
ALARM_RED = "#b00020"


@dataclass
class Alarm:
    """One alarm: ``kind`` (a key of :data:`ALARM_KINDS`), what happened, when."""

    kind: str
    message: str
    when: datetime = field(default_factory=datetime.now)

    def summary(self) -> str:
        """'Magnet QUENCH: the magnet supply reports a quench'."""
        return f"{ALARM_KINDS.get(self.kind, self.kind)}: {self.message}"

    def text(self) -> str:
        """The summary after its clock time: '14:02:11  Magnet QUENCH: ...'."""
        return f"{self.when:%H:%M:%S}  {self.summary()}"


def alarm_from_event(ev: dict) -> Alarm | None:
    """The alarm an engine event raises: a run that ends failed (a quench when its reason
    says so), else None."""
    if ev.get("type") != "status" or ev.get("state") != "failed":
        return None
    reason = str(ev.get("reason") or "")
    return Alarm("quench" if "quench" in reason.lower() else "run_failed", reason or "failed")


class AlarmBanner(QtWidgets.QFrame):
    """Red banner listing the alarms not yet acknowledged; hidden when there are none.
    ``acknowledge`` clears it (the alarms stay in the log)."""

    acknowledged = QtCore.pyqtSignal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.alarms: list[Alarm] = []
        self.setStyleSheet(f"QFrame {{ background: {ALARM_RED}; }} "
                           "QLabel { color: white; font-weight: bold; }")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QtWidgets.QLabel("")
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.button = QtWidgets.QPushButton("Acknowledge")
        self.button.clicked.connect(self.acknowledge)
        lay.addWidget(self.button)
        self.hide()

    def raise_alarm(self, alarm: Alarm) -> None:
        """Show ``alarm`` (stays until acknowledged)."""
        self.alarms.append(alarm)
        self.label.setText("\n".join(a.text() for a in self.alarms[-4:]))
        self.show()

    def acknowledge(self) -> None:
        """The operator has seen the alarms: hide the banner."""
        self.alarms.clear()
        self.label.setText("")
        self.hide()
        self.acknowledged.emit()

    def kinds(self) -> list[str]:
        """Kinds of the alarms shown."""
        return [a.kind for a in self.alarms]


class LogPanel(QtWidgets.QWidget):
    """The run log: one timestamped, coloured line per message, with a level filter."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, max_lines: int = 5000) -> None:
        super().__init__(parent)
        self.max_lines = max_lines
        self.entries: list[tuple[datetime, str, str]] = []
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Log, from level"))
        self.level = QtWidgets.QComboBox()
        self.level.addItems(LEVELS)
        self.level.setCurrentText("info")
        self.level.currentTextChanged.connect(self._render)
        top.addWidget(self.level)
        top.addStretch(1)
        lay.addLayout(top)
        self.text = QtWidgets.QTextEdit()
        self.text.setReadOnly(True)
        lay.addWidget(self.text, 1)

    def append(self, level: str, message: str, when: datetime | None = None) -> None:
        """Add one line (``level``: debug, info, warning or error)."""
        level = level.lower() if level.lower() in LEVELS else "info"
        entry = (when or datetime.now(), level, message)
        self.entries.append(entry)
        if len(self.entries) > self.max_lines:
            del self.entries[: len(self.entries) - self.max_lines]
        if self._shown(level):
            bar = self.text.verticalScrollBar()
            at_end = bar is None or bar.value() >= bar.maximum() - 4
            self.text.append(self._html(entry))
            if bar is not None and at_end:  # follow the newest line unless scrolled back
                bar.setValue(bar.maximum())

    def appendPlainText(self, text: str) -> None:  # noqa: N802  (QPlainTextEdit's name)
        """A line as the former plain log took it; a leading '[level] ' gives its level."""
        level, _, rest = text.partition("] ")
        if text.startswith("[") and level[1:].lower() in LEVELS:
            self.append(level[1:], rest)
        else:
            self.append("info", text)

    def toPlainText(self) -> str:  # noqa: N802  (QPlainTextEdit's name)
        """The lines shown, as plain text (what the former plain log gave)."""
        return self.text.toPlainText()

    def _shown(self, level: str) -> bool:
        return LEVELS.index(level) >= LEVELS.index(self.level.currentText())

    @staticmethod
    def _html(entry: tuple[datetime, str, str]) -> str:
        from html import escape

        when, level, message = entry
        return (f'<span style="color:{LEVEL_COLOURS[level]}">{when:%H:%M:%S} '
                f"{level.upper():7s} {escape(message)}</span>")

    def _render(self) -> None:
        self.text.setHtml("<br>".join(self._html(e) for e in self.entries if self._shown(e[1])))

    def lines(self) -> list[str]:
        """The lines shown now (plain text)."""
        return [line for line in self.text.toPlainText().splitlines() if line]


class LogHandler(logging.Handler):
    """Python logging of pcsdaq (warnings and above) into the GUI, through ``post`` (any
    thread). Records the engine also publishes as "log" events are skipped: one line each."""

    def __init__(self, post: object) -> None:
        super().__init__(logging.WARNING)
        self.post = post

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "pcsdaq_event", False):
            return
        post = self.post
        if callable(post):
            post({"type": "log", "level": record.levelname.lower(),
                  "message": record.getMessage()})
