"""Console progress for ``pcsdaq run``: a bar with ETA per step and overall, plus log lines."""

from __future__ import annotations

import math
import sys
from typing import Any, TextIO

from pcsdaq.runner.plan import format_duration


def _eta(seconds: float) -> str:
    return "--" if not math.isfinite(seconds) else format_duration(seconds)


class ConsoleProgress:
    """Engine subscriber printing progress: '\\r' updates on a terminal, one line per 10 %
    otherwise (log files, CI)."""

    def __init__(self, n_steps: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.n_steps = n_steps
        self.stream = stream or sys.stdout
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "progress":
            self._progress(event)
        elif kind in ("log", "status", "step_finished"):
            self._line(self._text(event))

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
        text = (f"step {event['step'] + 1}/{self.n_steps} [{bar}] {100 * f:5.1f} % "
                f"ETA {_eta(event['eta_s'])} | overall {100 * event['overall_fraction']:5.1f} % "
                f"ETA {_eta(event['overall_eta_s'])}")
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        elif int(f * 10) != self._last_decile:
            self._last_decile = int(f * 10)
            self.stream.write(text + "\n")
            self.stream.flush()
