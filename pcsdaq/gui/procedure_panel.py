"""Procedure panel: a form per procedure built from its pymeasure Parameters, in their
declaration order, grouped (conditions, bias, excitation, timing), labelled with their
description and units, fixed choices as drop-downs, validated as you type against the
parameter ranges and the station's limits (the bad field highlighted with its range)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import yaml
from pymeasure.experiment import BooleanParameter, ListParameter, Parameter
from PyQt6 import QtCore, QtWidgets

from pcsdaq.procedures import PROCEDURES, PlanError
from pcsdaq.procedures.base import StationProcedure, describe_range
from pcsdaq.runner.plan import PlanStep

if TYPE_CHECKING:
    from pcsdaq.station_schema import StationConfig

#: form groups, in the order shown, and the parameters each holds (others: by suffix)
GROUPS: dict[str, tuple[str, ...]] = {
    "Conditions": ("setpoints_K", "temperature_K", "keep_temperature", "fields_T", "field_T",
                   "keep_field", "start_K", "end_K", "rate_K_per_min", "tolerance_K",
                   "ramp_rate_T_per_min", "heater_range"),
    "Approach": ("target_min_ohm", "target_max_ohm", "step_voltage_V", "step_frequency_Hz",
                 "steps_per_burst", "retract_steps", "max_total_steps"),
    "Bias": ("max_current_A", "max_bias_mV", "current_A", "n_points", "direction",
             "dense_fraction", "dense_bias_mV", "dense_factor", "batch_points", "max_points",
             "fit_window_mV", "target_delta_rel_err", "live_fit"),
    "Excitation": ("sine_voltage_V", "frequency_Hz", "time_constant_s", "filter_slope_db",
                   "sensitivity_V", "settle_factor"),
    "Timing": (),
    "Other": (),
}
BAD_FIELD_STYLE = "background: #ffd6d6; border: 1px solid #b00020"


def ordered_specs(cls: type[StationProcedure]) -> dict[str, Parameter]:
    """The procedure's parameters in declaration order (base class first)."""
    specs = cls.parameter_specs()
    out: dict[str, Parameter] = {}
    for klass in reversed(cls.__mro__):
        for name in vars(klass):
            if name in specs and name not in out:
                out[name] = specs[name]
    return out


def group_of(key: str) -> str:
    """The form group of parameter ``key``."""
    for group, keys in GROUPS.items():
        if key in keys:
            return group
    return "Timing" if key.endswith("_s") or key in ("on_timeout",) else "Other"


def field_label(spec: Parameter) -> str:
    """'Maximum |bias current| (A)': the parameter's description with its unit."""
    units = getattr(spec, "units", None)
    return f"{spec.name} ({units})" if units else str(spec.name)


def field_tooltip(key: str, spec: Parameter) -> str:
    """Key, description, allowed range and default of one parameter."""
    default = getattr(spec, "default", None)
    shown = "not stated" if isinstance(default, float) and math.isnan(default) \
        else _text(default)
    return (f"{key}: {spec.name}\nallowed: {describe_range(spec)}\n"
            f"default: {shown}")


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
        self.form_scroll = QtWidgets.QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        lay.addWidget(self.form_scroll, 1)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        lay.addWidget(self.message)
        self.add_button = QtWidgets.QPushButton("Add to queue")
        self.add_button.clicked.connect(self._add)
        lay.addWidget(self.add_button)
        self.edits: dict[str, QtWidgets.QWidget] = {}
        self.field_labels: dict[str, QtWidgets.QLabel] = {}
        self.specs: dict[str, Parameter] = {}
        self.bad_fields: dict[str, str] = {}  #: key -> the problem, for the fields refused
        self.choice.currentTextChanged.connect(self._build_form)
        self._build_form(self.choice.currentText())

    def _build_form(self, name: str) -> None:
        host = QtWidgets.QWidget()
        outer = QtWidgets.QVBoxLayout(host)
        self.edits, self.field_labels = {}, {}
        self.specs = ordered_specs(PROCEDURES[name])
        forms: dict[str, QtWidgets.QFormLayout] = {}
        for group in GROUPS:
            keys = [k for k in self.specs if group_of(k) == group]
            if not keys:
                continue
            box = QtWidgets.QGroupBox(group)
            forms[group] = QtWidgets.QFormLayout(box)
            outer.addWidget(box)
        outer.addStretch(1)
        for key, spec in self.specs.items():
            edit = self._editor(spec)
            edit.setToolTip(field_tooltip(key, spec))
            label = QtWidgets.QLabel(field_label(spec))
            label.setToolTip(field_tooltip(key, spec))
            self.edits[key] = edit
            self.field_labels[key] = label
            forms[group_of(key)].addRow(label, edit)
        self.form_scroll.setWidget(host)  # the previous form is deleted with its host
        self.validate()

    def _editor(self, spec: Parameter) -> QtWidgets.QWidget:
        default = getattr(spec, "default", None)
        if isinstance(spec, ListParameter):
            combo = QtWidgets.QComboBox()
            combo.addItems([_text(c) for c in spec.choices])
            if default in spec.choices:
                combo.setCurrentIndex(list(spec.choices).index(default))
            combo.currentIndexChanged.connect(self.validate)
            return combo
        if isinstance(spec, BooleanParameter):
            check = QtWidgets.QCheckBox()
            check.setChecked(bool(default))
            check.toggled.connect(self.validate)
            return check
        edit = QtWidgets.QLineEdit()
        edit.setPlaceholderText("not stated" if isinstance(default, float)
                                and math.isnan(default) else _text(default))
        edit.textChanged.connect(self.validate)
        return edit

    def select(self, procedure: str) -> None:
        """Show the form of ``procedure``."""
        self.choice.setCurrentText(procedure)

    def set_value(self, key: str, value: Any) -> None:
        """Type a value into a field, or pick it from its list (as the operator would)."""
        edit = self.edits[key]
        if isinstance(edit, QtWidgets.QComboBox):
            choices = list(getattr(self.specs[key], "choices", []))
            matches = [i for i, c in enumerate(choices) if c == value or str(c) == str(value)]
            if not matches:
                raise ValueError(f"{key}: {value!r} is not one of {choices}")
            edit.setCurrentIndex(matches[0])
        elif isinstance(edit, QtWidgets.QCheckBox):
            edit.setChecked(bool(value))
        elif isinstance(edit, QtWidgets.QLineEdit):
            edit.setText(_text(value))

    def values(self) -> dict[str, Any]:
        """The fields the operator filled (text parsed as YAML scalars/lists), and the
        choices and switches set away from their defaults."""
        out: dict[str, Any] = {}
        for key, edit in self.edits.items():
            default = getattr(self.specs[key], "default", None)
            if isinstance(edit, QtWidgets.QComboBox):
                value = list(getattr(self.specs[key], "choices", []))[edit.currentIndex()]
                if value != default:
                    out[key] = value
            elif isinstance(edit, QtWidgets.QCheckBox):
                if edit.isChecked() != bool(default):
                    out[key] = edit.isChecked()
            elif isinstance(edit, QtWidgets.QLineEdit):
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

    def field_problems(self) -> dict[str, str]:
        """Each refused field -> its problem (with the allowed range): every field checked
        on its own against its parameter, then the step against the station."""
        cls = PROCEDURES[self.choice.currentText()]
        values = self.values()
        bad: dict[str, str] = {}
        for key, value in values.items():
            try:
                cls.from_parameters({key: value})
            except PlanError as exc:
                bad[key] = str(exc)
        if not bad and self.station_config is not None:
            try:
                problems = cls.from_parameters(values).validate(self.station_config)
            except PlanError as exc:
                problems = [str(exc)]
            for problem in problems:
                keys = ([k for k in self.specs if problem.startswith(f"{k} ")]
                        or [k for k in self.specs if f" {k} " in problem])
                for key in keys[:1] or [""]:
                    bad[key] = f"{bad[key]}; {problem}" if key in bad else problem
        return bad

    def validate(self) -> bool:
        """Check the form now: the message names the key and the allowed range; the bad
        fields are highlighted, their tooltip says why."""
        self.bad_fields = self.field_problems()
        for key, edit in self.edits.items():
            spec = self.specs[key]
            problem = self.bad_fields.get(key)
            edit.setStyleSheet(BAD_FIELD_STYLE if problem else "")
            self.field_labels[key].setStyleSheet("color: #b00020" if problem else "")
            tip = field_tooltip(key, spec)
            edit.setToolTip(f"{problem}\n\n{tip}" if problem else tip)
        if self.bad_fields:
            self.message.setText("; ".join(self.bad_fields.values()))
            self.add_button.setEnabled(False)
            return False
        try:
            self.current_step()
        except PlanError as exc:  # a problem of the whole step (e.g. two ranges given)
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
