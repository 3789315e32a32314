"""What a step holds fixed: the temperature and field it runs at, and what it leaves behind.

Each measuring procedure says, without I/O, at which temperature(s) (K) and field(s) (T) it
measures (:class:`Conditions`): values it states and goes to itself, an explicit "keep the
present one", or nothing (it inherits whatever the step before left, which ``pcsdaq run
--check`` warns about). ``plan_conditions`` (pcsdaq.runner.plan) walks a plan with these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

STATED, KEPT, INHERITED, RAMPED, UNTOUCHED = "stated", "kept", "inherited", "ramped", "untouched"


@dataclass(frozen=True)
class Condition:
    """One quantity (temperature in K or field in T) of a step.

    ``how``: ``stated`` (the step goes to ``values`` itself), ``ramped`` (it sweeps from
    values[0] to values[-1], an R(T) log), ``kept`` (it says it measures at the present
    value), ``inherited`` (it does not say: whatever the step before left) or ``untouched``
    (a step that measures no spectrum under it, the needle approach). ``leaves``: the
    value the step leaves behind (None: unchanged)."""

    how: str
    values: tuple[float, ...] = ()
    leaves: float | None = None

    @property
    def controlled(self) -> bool:
        """True when the step sets this quantity itself."""
        return self.how in (STATED, RAMPED)


@dataclass(frozen=True)
class Conditions:
    """Temperature and field of a step (see :class:`Condition`)."""

    temperature: Condition
    field: Condition


#: a step that does not measure under conditions (the needle approach): leaves both alone
UNCONTROLLED = Conditions(Condition(UNTOUCHED), Condition(UNTOUCHED))
#: a step that measures where it is, on purpose (a lone bias sweep)
KEEPS_BOTH = Conditions(Condition(KEPT), Condition(KEPT))


def is_stated(value: float) -> bool:
    """True for a stated float parameter (NaN is the 'not stated' default)."""
    return value is not None and not math.isnan(value)


def condition(value: float, keep: bool, leaves_stated: bool = True) -> Condition:
    """The Condition of an optional fixed value (NaN: not stated) with its keep flag."""
    if is_stated(value):
        return Condition(STATED, (float(value),), float(value) if leaves_stated else None)
    return Condition(KEPT if keep else INHERITED)


def both_given_problem(key: str, value: float, keep_key: str, keep: bool) -> list[str]:
    """A problem when a step both states a value and says it keeps the present one."""
    if keep and is_stated(value):
        return [f"{key} = {value:g} and {keep_key}: true contradict each other; give one"]
    return []


def format_values(values: tuple[float, ...], unit: str) -> str:
    """'0.5, 1, 2 ... 20 K, 12 values' (at most 6 values shown)."""
    if len(values) > 6:
        head = ", ".join(f"{v:g}" for v in values[:3])
        return f"{head} ... {values[-1]:g} {unit}, {len(values)} values"
    return ", ".join(f"{v:g}" for v in values) + f" {unit}"
