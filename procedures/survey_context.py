"""A spot's view of the survey's run context: the survey runs other procedures (the needle
approach, bias sweeps, R(T) logs) on one spot and keeps what they measured.

:class:`SpotContext` forwards segments and points to the survey's context, with the spot's
number in every row (column ``spot``) and segment (``spotNNN_<name>``), keeps the rows of
the present segment for the survey's own analysis, and keeps the procedures' run metadata
for the spot's record instead of the run's (one contact resistance per spot, not per run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pcsdaq.clock import Clock
    from pcsdaq.procedures.base import RunContext
    from pcsdaq.station import Station


class SpotContext:
    """RunContext of one spot (see pcsdaq.procedures.base.RunContext)."""

    def __init__(self, ctx: RunContext, spot: int) -> None:
        self.ctx = ctx
        self.spot = spot
        self.station: Station = ctx.station
        self.clock: Clock = ctx.clock
        self.resume_state: dict = {}
        self.rows: list[dict] = []
        self.metadata: dict[str, Any] = {}
        self.segment = ""

    def begin_segment(self, name: str, **attrs: Any) -> None:
        """A segment ``spotNNN_<name>`` in the survey's run file; its rows are kept."""
        self.segment = f"spot{self.spot:03d}_{name}"
        self.rows = []
        self.ctx.begin_segment(self.segment, spot=self.spot, **attrs)

    def record(self, row: dict) -> None:
        """One point, with the spot's number."""
        row = {**row, "spot": float(self.spot)}
        self.ctx.record(row)
        self.rows.append(row)

    def column(self, name: str) -> list[float]:
        """One column of the present segment's rows."""
        return [float(r.get(name, float("nan"))) for r in self.rows]

    def checkpoint(self) -> None:
        """The survey's pause/abort."""
        self.ctx.checkpoint()

    def progress(self, fraction: float) -> None:
        """A sub-procedure's progress is not the survey's: ignored."""

    def log(self, message: str, level: str = "info") -> None:
        """A line for the run log, naming the spot."""
        self.ctx.log(f"spot {self.spot}: {message}", level)

    def set_metadata(self, **attrs: Any) -> None:
        """Kept for the spot's record (not the run's)."""
        self.metadata.update(attrs)

    def save_resume_state(self, **state: Any) -> None:
        """The survey keeps the resume state (per spot); a sub-procedure's is not kept."""
