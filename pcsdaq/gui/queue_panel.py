"""Run controls: start, pause, resume, abort — commands to the one run engine."""

from __future__ import annotations

from PyQt6 import QtWidgets


class RunControls(QtWidgets.QWidget):
    """Buttons that call ``engine.start/pause/resume/abort``; disabled without an engine."""

    def __init__(self, engine=None, parent=None) -> None:
        super().__init__(parent)
        self.engine = engine
        lay = QtWidgets.QHBoxLayout(self)
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
        else:
            getattr(self.engine, name)()
