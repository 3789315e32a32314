"""What the queue table shows, without Qt: each step's one-line setup and the run's state of
every step (status, progress, elapsed and remaining time) followed from the engine's events."""

from __future__ import annotations

import math
from typing import Any

from pcsdaq.procedures import PlanError
from pcsdaq.runner.plan import PlanStep

#: the parameters that say what a step does: key -> (label, unit, scale to the unit)
SUMMARY_KEYS: dict[str, tuple[str, str, float]] = {
    "setpoints_K": ("T", "K", 1.0), "temperature_K": ("T", "K", 1.0),
    "start_K": ("from", "K", 1.0), "end_K": ("to", "K", 1.0),
    "fields_T": ("B", "T", 1.0), "field_T": ("B", "T", 1.0),
    "max_bias_mV": ("bias ±", "mV", 1.0), "max_current_A": ("I ±", "mA", 1e3),
    "n_points": ("", "pts", 1.0),
    "target_min_ohm": ("R from", "Ohm", 1.0), "target_max_ohm": ("to", "Ohm", 1.0),
}
STATUSES = ("queued", "running", "paused", "finished", "failed", "aborted")


def _fmt(value: Any, scale: float) -> str | None:
    if isinstance(value, list | tuple):
        items = [_fmt(v, scale) for v in value]
        shown = [v for v in items if v is not None]
        if len(shown) > 6:
            shown = shown[:3] + ["…"] + shown[-2:]
        return ", ".join(shown) if shown else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN: not stated
    return f"{value * scale:g}"


def step_summary(step: PlanStep) -> str:
    """'T 2, 5, 8 K; I ± 0.5 mA; 151 pts': the parameters that matter, with units (the
    bias range is the one the step uses: mV when given, else the current)."""
    try:
        params = step.build().parameters_dict()
    except PlanError as exc:
        return f"cannot run: {exc}"
    if params.get("max_bias_mV"):
        params.pop("max_current_A", None)
    else:
        params.pop("max_bias_mV", None)
    parts = []
    for key, (label, unit, scale) in SUMMARY_KEYS.items():
        text = _fmt(params.get(key), scale)
        if text is None or (text == "0" and not key.endswith(("_K", "_T"))):
            continue
        parts.append(f"{label} {text} {unit}".strip())
    return "; ".join(parts) if parts else "defaults"


class QueueTracker:
    """Per step of the queue: status (:data:`STATUSES`), progress fraction, estimated
    duration (s), start/end (monotonic s) and the latest ETA, from the engine's events."""

    def __init__(self) -> None:
        self.status: list[str] = []
        self.fraction: list[float] = []
        self.estimate: list[float] = []
        self.started: list[float | None] = []
        self.ended: list[float | None] = []
        self.eta: list[tuple[float, float] | None] = []  #: (eta s, when it came)
        self.overall: tuple[float, float] | None = None  #: the queue's (eta s, when)
        self.run_state = "idle"

    def resize(self, n: int, estimates: list[float]) -> None:
        """Follow a queue of ``n`` steps (kept states for the first ones), estimates in s."""
        for name in ("status", "fraction", "started", "ended", "eta"):
            values = getattr(self, name)
            fill: Any = {"status": "queued", "fraction": 0.0}.get(name)
            setattr(self, name, (values + [fill] * n)[:n])
        self.estimate = (list(estimates) + [0.0] * n)[:n]

    def reset(self) -> None:
        """Every step queued again (a new run)."""
        n = len(self.status)
        self.status, self.fraction = ["queued"] * n, [0.0] * n
        self.started, self.ended, self.eta = [None] * n, [None] * n, [None] * n
        self.overall = None

    def remove(self, i: int) -> None:
        """Forget step ``i`` (removed from the queue)."""
        for name in ("status", "fraction", "estimate", "started", "ended", "eta"):
            del getattr(self, name)[i]

    def count(self, status: str) -> int:
        """Number of steps in ``status``."""
        return self.status.count(status)

    def _active(self) -> list[int]:
        return [i for i, s in enumerate(self.status) if s in ("running", "paused")]

    def on_event(self, ev: dict, now: float) -> list[int]:
        """Apply one engine event at monotonic time ``now``; the indices of changed steps."""
        kind = ev.get("type")
        step = ev.get("step")
        i = int(step) if isinstance(step, int) else -1
        if kind == "status":
            state = str(ev.get("state"))
            previous, self.run_state = self.run_state, state
            if state == "running" and previous not in ("running", "paused"):
                self.reset()
                return list(range(len(self.status)))
            active = self._active()
            for j in active:
                if state == "paused":
                    self.status[j] = "paused"
                elif state == "running":
                    self.status[j] = "running"
                elif state in ("finished", "failed", "aborted"):
                    self.status[j], self.ended[j] = state, now
            return active
        if not 0 <= i < len(self.status):
            return []
        if kind == "run_started":
            self.status[i], self.fraction[i] = "running", 0.0
            self.started[i], self.ended[i], self.eta[i] = now, None, None
        elif kind == "progress":
            self.fraction[i] = float(ev.get("fraction", 0.0))
            self.eta[i] = (float(ev.get("eta_s", math.nan)), now)
            self.overall = (float(ev.get("overall_eta_s", math.nan)), now)
        elif kind == "step_finished":
            status = str(ev.get("status", "finished"))
            self.status[i] = status if status in STATUSES else "failed"
            self.ended[i] = now
            if status == "finished":
                self.fraction[i] = 1.0
        else:
            return []
        return [i]

    def elapsed_s(self, i: int, now: float) -> float | None:
        """Time step ``i`` has run (s), None before it started."""
        start = self.started[i]
        if start is None:
            return None
        end = self.ended[i]
        return (end if end is not None else now) - start

    def remaining_s(self, i: int, now: float) -> float | None:
        """Expected time left for step ``i`` (s): its estimate while queued, the ETA of its
        latest progress while running; None once it ended."""
        status = self.status[i]
        if status == "queued":
            return self.estimate[i]
        if status not in ("running", "paused"):
            return None
        eta = self.eta[i]
        if eta is not None and math.isfinite(eta[0]):
            if status == "paused":  # nothing runs down while paused
                return eta[0]
            return max(eta[0] - (now - eta[1]), 0.0)
        return max(self.estimate[i] - (self.elapsed_s(i, now) or 0.0), 0.0)

    def queue_remaining_s(self, now: float) -> float:
        """Expected time left for the whole queue (s): the engine's overall ETA while a step
        reports progress, else the sum over the steps not ended."""
        if self.run_state in ("running", "paused") and self.overall is not None \
                and math.isfinite(self.overall[0]):
            return max(self.overall[0] - (now - self.overall[1]), 0.0)
        left = [self.remaining_s(i, now) for i in range(len(self.status))]
        return float(sum(v for v in left if v is not None))
