"""Procedure panel: a form per procedure built from its pymeasure Parameters, validated as
you type against the parameter ranges and the station's limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml
from PyQt6 import QtCore, QtWidgets

from pcsdaq.procedures import PROCEDURES, PlanError
from pcsdaq.procedures.base import describe_range
from pcsdaq.runner.plan import PlanStep

if TYPE_CHECKING:
    from pcsdaq.station_schema import StationConfig


class ProcedurePanel(QtWidgets.QGroupBox):
    """Pick a procedure, fill its parameters; ``step_ready`` carries a valid PlanStep."""

    step_ready = QtCore.pyqtSignal(object)

    def __init__(self, station_config: StationConfig | None = None, parent=None) -> None:
        super().__init__("Procedure", parent)
        self.station_config = station_config
        lay = QtWidgets.QVBoxLayout(self)
        self.choice = QtWidgets.QComboBox()
        self.choice.addItems(sorted(PROCEDURES))
        lay.addWidget(self.choice)
        self.form_host = QtWidgets.QWidget()
        self.form = QtWidgets.QFormLayout(self.form_host)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form_host)
        lay.addWidget(scroll, 1)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        lay.addWidget(self.message)
        self.add_button = QtWidgets.QPushButton("Add to queue")
        self.add_button.clicked.connect(self._add)
        lay.addWidget(self.add_button)
        self.edits: dict[str, QtWidgets.QLineEdit] = {}
        self.choice.currentTextChanged.connect(self._build_form)
        self._build_form(self.choice.currentText())

    def _build_form(self, name: str) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.edits = {}
        specs = PROCEDURES[name].parameter_specs()
        for key in sorted(specs):
            spec = specs[key]
            edit = QtWidgets.QLineEdit()
            edit.setPlaceholderText(_text(spec.default))
            edit.setToolTip(f"{spec.name}: {describe_range(spec)}")
            edit.textChanged.connect(self.validate)
            self.edits[key] = edit
            units = f" ({spec.units})" if getattr(spec, "units", None) else ""
            self.form.addRow(f"{key}{units}", edit)
        self.validate()

    def select(self, procedure: str) -> None:
        """Show the form of ``procedure``."""
        self.choice.setCurrentText(procedure)

    def set_value(self, key: str, value: Any) -> None:
        """Type a value into a field (as the operator would)."""
        self.edits[key].setText(_text(value))

    def values(self) -> dict[str, Any]:
        """The fields the operator filled, parsed as YAML scalars/lists."""
        out = {}
        for key, edit in self.edits.items():
            text = edit.text().strip()
            if text:
                try:
                    out[key] = yaml.safe_load(text)
                except yaml.YAMLError:
                    out[key] = text
        return out

    def current_step(self) -> PlanStep:
        """The PlanStep the form describes (PlanError if it cannot run)."""
        step = PlanStep(self.choice.currentText(), self.values())
        proc = step.build()
        if self.station_config is not None:
            problems = proc.validate(self.station_config)
            if problems:
                raise PlanError("; ".join(problems))
        return step

    def validate(self) -> bool:
        """Check the form now: the message names the key and the allowed range."""
        try:
            self.current_step()
        except PlanError as exc:
            self.message.setText(str(exc))
            self.add_button.setEnabled(False)
            return False
        self.message.setText("")
        self.add_button.setEnabled(True)
        return True

    def _add(self) -> None:
        if self.validate():
            self.step_ready.emit(self.current_step())


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)
