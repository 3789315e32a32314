"""Refusing validators for pymeasure's ``Instrument.control`` / ``setting`` declarations.

pymeasure's ``truncated_range`` and ``truncated_discrete_set`` clip a value that is out of
range and send the clipped one; a pcsdaq driver refuses instead: the validator raises
:class:`~pcsdaq.errors.LimitError` naming the quantity, the value and what is allowed, and
nothing is sent. Each factory takes the quantity's name and unit for the message and
returns a ``validator(value, values)`` as pymeasure calls it::

    frequency = Instrument.control(
        "FREQ?", "FREQ %.4f", "Control the reference frequency in Hz (0.001-102000).",
        validator=refusing_range("frequency", "Hz"), values=[1e-3, 102e3])
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from pcsdaq.errors import LimitError

Validator = Callable[[Any, Any], Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def refusing_range(what: str, unit: str = "") -> Validator:
    """Validator for ``values=[low, high]``: the value if ``low <= value <= high``, else
    LimitError (nothing sent)."""
    unit_text = f" {unit}" if unit else ""

    def validate(value: Any, values: Sequence[float]) -> float:
        low, high = values
        if not _is_number(value):
            raise LimitError(f"{what} = {value!r} is not a number; nothing was sent")
        if not low <= value <= high:
            raise LimitError(f"{what} = {value:g}{unit_text} refused, allowed {low:g} to "
                             f"{high:g}{unit_text}; nothing was sent")
        return value

    validate.__doc__ = f"Refuse a {what} outside values=[low, high] (LimitError)."
    return validate


def refusing_integer_range(what: str) -> Validator:
    """Validator for ``values=[low, high]`` of an integer setting (a harmonic, an index):
    the int if it is whole and inside, else LimitError (nothing sent)."""
    def validate(value: Any, values: Sequence[int]) -> int:
        low, high = values
        if not _is_number(value) or int(value) != value:
            raise LimitError(f"{what} = {value!r} is not a whole number; nothing was sent")
        if not low <= value <= high:
            raise LimitError(f"{what} = {value!r} refused, allowed {low} to {high}; "
                             "nothing was sent")
        return int(value)

    validate.__doc__ = f"Refuse a {what} that is not a whole number in values=[low, high]."
    return validate


def refusing_choice(what: str) -> Validator:
    """Validator for a discrete set or a value map (``values`` list or dict, its keys the
    choices): the value if it is one of them, else LimitError (nothing sent)."""
    def validate(value: Any, values: Collection[Any]) -> Any:
        if isinstance(value, bool) and not any(isinstance(v, bool) for v in values):
            raise LimitError(f"{what} = {value!r} refused; allowed: "
                             f"{', '.join(map(str, values))}; nothing was sent")
        try:
            ok = value in values
        except TypeError:  # an unhashable value is no key of a map
            ok = False
        if not ok:
            raise LimitError(f"{what} = {value!r} refused; allowed: "
                             f"{', '.join(map(str, values))}; nothing was sent")
        return value

    validate.__doc__ = f"Refuse a {what} that is not one of values (LimitError)."
    return validate
