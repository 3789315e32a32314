"""Console progress for ``pcsdaq run``: a bar with ETA per step and overall, plus log lines."""

from __future__ import annotations

import math
import sys
from typing import Any, TextIO

from pcsdaq.runner.plan import format_duration


def _eta(seconds: float) -> str:
    return "--" if not math.isfinite(seconds) else format_duration(seconds)


def live_fit_line(event: dict[str, Any]) -> str:
    """One line for a "live_fit" event: 'step 1 sweep: Delta = 2.62 +- 0.01 meV, Z = 0.80,
    Gamma = 0.16 meV (btk, good, 120 of 150 points)'."""
    def num(value: Any, fmt: str) -> str:
        return format(value, fmt) if isinstance(value, int | float) and math.isfinite(value) \
            else "--"

    return (f"step {event['step'] + 1} {event.get('segment_name', '')}: live fit Delta = "
            f"{num(event['delta_meV'], '.4g')} +- {num(event['delta_err_meV'], '.2g')} meV, "
            f"Z = {num(event['Z'], '.3g')}, Gamma = {num(event['gamma_meV'], '.3g')} meV "
            f"({event.get('model', '')}, {event['verdict']}, {int(event['n_points'])} of "
            f"{int(event['n_acquired'])} points)")


class ConsoleProgress:
    """Engine subscriber printing progress: '\\r' updates on a terminal, one line per 10 %
    otherwise (log files, CI). The newest live fit's Delta +- error ends the progress line;
    a step's last live fit gets a line of its own when the step ends."""

    def __init__(self, n_steps: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.n_steps = n_steps
        self.stream = stream or sys.stdout
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1
        self._live = ""  # the newest live fit, shown at the end of the progress line
        self._live_event: dict[str, Any] | None = None
        self._bar = ""

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "progress":
            self._progress(event)
        elif kind in ("log", "status", "step_finished"):
            self._line(self._text(event))
        elif kind == "live_fit":
            self._live_event = event
            d, err = event["delta_meV"], event["delta_err_meV"]
            self._live = f" | Delta {d:.4g} +- {err:.2g} meV ({event['verdict']})"
            if self.tty:
                self._redraw()
        if kind == "step_finished" and self._live_event is not None:
            self._line(live_fit_line(self._live_event))  # the step's last live fit in full
            self._live_event, self._live = None, ""

    def _text(self, event: dict[str, Any]) -> str:
        if event["type"] == "log":
            return f"[{event['level']}] {event['message']}"
        if event["type"] == "status":
            reason = f" ({event['reason']})" if event.get("reason") else ""
            return f"run {event['state']}{reason}"
        return (f"step {event['step'] + 1}: {event['status']}, {event['points']} points "
                f"in {event['path']}")

    def _line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last_decile = -1

    def _progress(self, event: dict[str, Any]) -> None:
        f = event["fraction"]
        filled = int(round(f * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        self._bar = (f"step {event['step'] + 1}/{self.n_steps} [{bar}] {100 * f:5.1f} % "
                     f"ETA {_eta(event['eta_s'])} | overall "
                     f"{100 * event['overall_fraction']:5.1f} % "
                     f"ETA {_eta(event['overall_eta_s'])}")
        if self.tty:
            self._redraw()
        elif int(f * 10) != self._last_decile:
            self._last_decile = int(f * 10)
            self.stream.write(self._bar + self._live + "\n")
            self.stream.flush()

    def _redraw(self) -> None:
        self.stream.write("\r\033[K" + self._bar + self._live)
        self.stream.flush()
