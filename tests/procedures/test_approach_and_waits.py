"""Needle approach and the waits, with small fake instruments and a fake run context."""

import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.errors import AbortRequested, QuenchError
from pcsdaq.procedures import NeedleApproach
from pcsdaq.procedures.approach import ApproachFailed
from pcsdaq.procedures.waits import (
    ThermometerFault,
    wait_field,
    wait_temperature,
)


class FakeContext:
    def __init__(self, station):
        self.station, self.clock, self.resume_state = station, station.clock, {}
        self.rows, self.segments, self.meta, self.logs = [], [], {}, []
        self.abort_after = None

    def begin_segment(self, name, **attrs):
        self.segments.append((name, attrs))

    def record(self, row):
        self.rows.append(row)

    def checkpoint(self):
        if self.abort_after is not None and len(self.rows) >= self.abort_after:
            raise AbortRequested("stop")

    def progress(self, fraction):
        assert 0.0 <= fraction <= 1.0

    def log(self, message, level="info"):
        self.logs.append(message)

    def set_metadata(self, **attrs):
        self.meta.update(attrs)

    def save_resume_state(self, **state):
        self.resume_state.update(state)


class FakeLockin:
    """Reads a contact whose resistance the fake positioner sets (divider through 1 MOhm)."""

    sine_voltage, time_constant, filter_slope, sensitivity = 0.1, 0.03, 24, 1.0

    def __init__(self, positioner):
        self.positioner = positioner

    def ac_current(self):
        return self.sine_voltage / 1e6

    def settle_time(self, factor=1.0, accuracy=None):
        return 10 * self.time_constant * factor

    def read_xy(self):
        r = self.positioner.resistance()
        return self.sine_voltage * r / (1e6 + r), 0.0


class FakePositioner:
    def __init__(self, touch_at=40, r_per_step=0.7):
        self.position, self.touch_at, self.r_per_step = 0, touch_at, r_per_step
        self.grounded = False
        self.bursts = []

    def resistance(self):
        if self.position < self.touch_at:
            return 1e12
        return max(60.0 - self.r_per_step * (self.position - self.touch_at), 0.5)

    def step(self, n):
        self.bursts.append(n)
        self.position += n

    def set_voltage(self, v):
        pass

    def set_frequency(self, f):
        pass

    def ground(self):
        self.grounded = True


class Station:
    def __init__(self, positioner):
        import threading

        self.clock = VirtualClock()
        self.lock = threading.RLock()
        self.positioner = positioner
        self.lockin = FakeLockin(positioner)


def test_approach_stops_inside_the_window_and_records_the_trajectory():
    pos = FakePositioner()
    ctx = FakeContext(Station(pos))
    NeedleApproach.from_parameters({"target_min_ohm": 20.0, "target_max_ohm": 30.0,
                                    "steps_per_burst": 2}).execute_on(ctx)
    r = ctx.meta["contact_resistance_ohm"]
    assert 20.0 <= r <= 30.0 and pos.grounded
    assert ctx.rows[-1]["R_Ohm"] == pytest.approx(r)
    assert ctx.rows[0]["R_Ohm"] > 1e5  # open at the start
    assert ctx.meta["contact_diameter_nm"] == pytest.approx(369.98 / r, rel=1e-6)
    assert [row["steps_total"] for row in ctx.rows] == sorted(row["steps_total"]
                                                             for row in ctx.rows)


def test_approach_retracts_when_pressed_too_hard():
    pos = FakePositioner(touch_at=41, r_per_step=7.0)  # 3-step bursts overshoot the window
    ctx = FakeContext(Station(pos))
    NeedleApproach.from_parameters({"target_min_ohm": 20.0, "target_max_ohm": 26.0,
                                    "steps_per_burst": 3, "retract_steps": 1}).execute_on(ctx)
    assert -1 in pos.bursts
    assert 20.0 <= ctx.meta["contact_resistance_ohm"] <= 26.0


def test_approach_gives_up_after_max_steps():
    pos = FakePositioner(touch_at=10**6)
    ctx = FakeContext(Station(pos))
    with pytest.raises(ApproachFailed, match="max_total_steps"):
        NeedleApproach.from_parameters({"max_total_steps": 50,
                                        "steps_per_burst": 5}).execute_on(ctx)
    assert sum(pos.bursts) == 50


class FakeThermometer:
    def __init__(self, clock, approach_s=100.0, target=5.0, start=10.0, valid=True):
        self.clock, self.approach_s, self.target, self.start = clock, approach_s, target, start
        self.valid = valid

    def read_temperature(self):
        f = min(self.clock.now() / self.approach_s, 1.0)
        return self.start + (self.target - self.start) * f

    def reading_valid(self):
        return self.valid

    def is_settled(self):
        return self.clock.now() >= self.approach_s


def test_wait_temperature_needs_the_window_and_the_bridge():
    station = Station(FakePositioner())
    station.thermometer = FakeThermometer(station.clock)
    t = wait_temperature(FakeContext(station), 5.0, 0.01, 60.0, 1000.0)
    assert t == pytest.approx(5.0) and station.clock.now() >= 160.0
    station = Station(FakePositioner())
    station.thermometer = FakeThermometer(station.clock, valid=False)
    with pytest.raises(ThermometerFault, match="invalid"):  # not a 300 s wait
        wait_temperature(FakeContext(station), 5.0, 0.01, 60.0, 300.0)
    assert station.clock.now() < 100


class FakeMagnet:
    def __init__(self, quench_at=None):
        self.calls, self.quench_at = 0, quench_at

    def is_quenched(self):
        self.calls += 1
        return self.quench_at is not None and self.calls >= self.quench_at

    def is_holding(self):
        return self.calls >= 5

    def read_field(self):
        return 1.0


def test_wait_field_holds_or_stops_hard_on_a_quench():
    station = Station(FakePositioner())
    station.magnet = FakeMagnet()
    assert wait_field(FakeContext(station), 1.0, 100.0) == 1.0
    station.magnet = FakeMagnet(quench_at=3)
    with pytest.raises(QuenchError):
        wait_field(FakeContext(station), 1.0, 100.0)
