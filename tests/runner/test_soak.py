"""Soak: a 24-hour plan of lab time on the in-process simulated lab (virtual clock), with
every kind of fault injected at random moments, several times each.

The operator's part is played too: when a fault ends a step safe (an open heater), the
faults are cleared and the run is resumed, as ``pcsdaq run --resume`` would. At the end
every planned spectrum and R(T) log has been measured completely (points of an interrupted
one stay in its file and it was measured again), every recorded point was published (none
lost), flagged points carry known flags; memory, open file descriptors and threads are
flat. The test prints its figures."""

import gc
import os
import random
import threading
import time
import tracemalloc
from collections import Counter

import pytest
from lab_helpers import walk_in

from pcsdaq.procedures.bias_sweep import (
    FLAG_OVERLOAD_LATCHED,
    FLAG_OVERLOAD_REMEASURED,
    FLAG_STILL_OVERLOADED,
    FLAG_TEMPERATURE_INVALID,
    FLAG_UNLOCKED,
)
from pcsdaq.runner.plan import PlanStep, estimate_plan_duration_s
from pcsdaq.storage import read_run

pytestmark = pytest.mark.slow

KNOWN_FLAGS = (FLAG_OVERLOAD_REMEASURED | FLAG_STILL_OVERLOADED | FLAG_OVERLOAD_LATCHED
               | FLAG_UNLOCKED | FLAG_TEMPERATURE_INVALID)
SWEEP = {"max_current_A": 5e-4, "n_points": 61, "sensitivity_V": 1e-5, "time_constant_s": 0.01}
SETPOINTS = [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
# distinct values: resume by value (issue 14 item 6, another change) would skip repeats
FIELDS = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
PLAN = [
    PlanStep("rt_log", {"start_K": 25.0, "end_K": 2.0, "rate_K_per_min": 0.03,
                        "interval_s": 90.0, "heater_range": 6, "timeout_s": 60000.0},
             "cooldown"),
    PlanStep("temperature_series", dict(SWEEP, setpoints_K=SETPOINTS, window_s=30.0,
                                        heater_range=4), "T series"),
    PlanStep("field_series", dict(SWEEP, fields_T=FIELDS), "B series"),
    PlanStep("rt_log", {"start_K": 2.0, "end_K": 12.0, "rate_K_per_min": 0.03,
                        "interval_s": 90.0, "heater_range": 4}, "warm-up"),
    PlanStep("rt_log", {"start_K": 12.0, "end_K": 1.0, "rate_K_per_min": 0.03,
                        "interval_s": 90.0, "heater_range": 4}, "second cooldown"),
]
TRANSPORT = ("no_reply", "drop", "garble")
PHYSICAL = ("overload", "unlock", "thermometer_invalid", "heater_open")
TARGETS = ("sr830", "keithley2000", "ls372", "ami430")
#: points a physical blip lasts before it is cleared
BLIP_POINTS = {"overload": 3, "unlock": 3, "thermometer_invalid": 1, "heater_open": 4}


class _Tally:
    """Counts point events and retry messages without keeping them."""

    def __init__(self):
        self.points = 0
        self.retries = 0

    def __call__(self, event):
        if event["type"] == "point":
            self.points += 1
        elif event["type"] == "log" and "reconnecting (retry" in event["message"]:
            self.retries += 1


def rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds():
    return len(os.listdir("/proc/self/fd"))


class FaultInjector:
    """Every ~80 points (seeded jitter) the next fault of a cycle over every kind."""

    def __init__(self, lab, seed=14):
        self.lab = lab
        self.rng = random.Random(seed)
        self.kinds = list(TRANSPORT + PHYSICAL)
        self.rng.shuffle(self.kinds)  # then round robin: each kind equally often
        self.next_at = 50
        self.points = 0
        self.injected = Counter()
        self.active = []  # (kind, clear at point)

    def __call__(self, event):
        if event["type"] != "point":
            return
        self.points += 1
        for kind, until in list(self.active):
            if self.points >= until:
                self.active.remove((kind, until))
                self.clear(kind)
        if self.points < self.next_at:
            return
        self.next_at = self.points + self.rng.randint(45, 110)
        kind = self.kinds[self.injected.total() % len(self.kinds)]
        if kind in TRANSPORT:
            self.lab.inject(kind, self.rng.choice(TARGETS), count=1)
        else:
            self.lab.inject(kind)
            self.active.append((kind, self.points + BLIP_POINTS[kind]))
        self.injected[kind] += 1

    def clear(self, kind):
        cry, lockin = self.lab.cryostat, self.lab.emulators["sr830"]
        if kind == "overload":
            lockin.force_overload = False
        elif kind == "unlock":
            lockin.force_unlock = False
        elif kind == "thermometer_invalid":
            cry.thermometer_invalid = False
        elif kind == "heater_open":
            cry.heater_open = False


def test_a_day_of_faults(engine_on_sim):
    lab, station, engine, events = engine_on_sim
    walk_in(lab)
    # warm-up: imports, caches and the first file's HDF5 state before the baseline
    engine.queue = [PlanStep("bias_sweep", dict(SWEEP, n_points=11)),
                    PlanStep("rt_log", {"start_K": 3.0, "end_K": 2.5, "rate_K_per_min": 1.0,
                                        "interval_s": 5.0}),
                    PlanStep("temperature_series", dict(SWEEP, setpoints_K=[3.0], n_points=11,
                                                        window_s=10.0)),
                    PlanStep("field_series", dict(SWEEP, fields_T=[0.1], n_points=11))]
    assert engine.run_blocking() == "finished"
    engine.files.clear()
    engine._subscribers.remove(events.append)  # the fixture's list would grow all day
    events = _Tally()
    engine.subscribe(events)
    gc.collect()
    tracemalloc.start()
    heap0 = tracemalloc.get_traced_memory()[0]
    rss0, fds0, threads0 = rss_bytes(), open_fds(), threading.active_count()
    before = set(threading.enumerate())
    t_real = time.monotonic()
    lab_t0 = lab.clock.now()

    injector = FaultInjector(lab)
    engine.subscribe(injector)
    engine.queue = list(PLAN)
    engine.plan_source = "soak"
    state = engine.run_blocking()
    resumes = 0
    while state != "finished" and resumes < 30:
        assert "experiment fault" in engine.reason or "link fault" in engine.reason, \
            engine.reason
        lab.clear_faults()
        injector.active.clear()
        resumes += 1
        state = engine.run_blocking(resume=True)
    assert state == "finished", engine.reason

    real_s = time.monotonic() - t_real
    lab_h = (lab.clock.now() - lab_t0) / 3600
    gc.collect()
    heap1 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rss1, fds1, threads1 = rss_bytes(), open_fds(), threading.active_count()
    # a thread the day left running is a leak; one an earlier test left may end meanwhile
    # (under xdist the worker process carries other test files' daemon threads)
    left_running = [t.name for t in set(threading.enumerate()) - before]

    runs = [(path, read_run(path)) for path in engine.files]
    published = events.points
    stored = sum(run.n_rows for _, run in runs)
    by_step = {}
    for path, run in runs:
        by_step.setdefault(run.attrs["metadata"]["step_index"], []).append(run)
    complete = {i: [s for run in rs for s in run.segments] for i, rs in by_step.items()}
    flagged = Counter()
    for _, run in runs:
        for seg in run.segments:
            if "flags" in seg.columns:
                for f in seg.columns["flags"].astype(int):
                    assert f & ~KNOWN_FLAGS == 0, f
                    for bit in (1, 2, 4, 8, 16):
                        if f & bit:
                            flagged[bit] += 1
    retried = events.retries
    statuses = Counter(run.status for _, run in runs)

    print(f"\nsoak: {lab_h:.1f} h of lab time in {real_s:.1f} s real time; plan estimate "
          f"{sum(estimate_plan_duration_s(PLAN, station.config)) / 3600:.1f} h")
    print(f"soak: faults injected {dict(injector.injected)}; link retries {retried}; "
          f"operator resumes {resumes}; files {dict(statuses)}")
    print(f"soak: points published {published}, stored {stored}; flagged points by bit "
          f"{dict(flagged)}")
    print(f"soak: RSS {rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MiB, Python heap "
          f"{heap0 / 2**20:.2f} -> {heap1 / 2**20:.2f} MiB, open fds {fds0} -> {fds1}, "
          f"threads {threads0} -> {threads1}")

    assert lab_h >= 22
    assert all(injector.injected[k] >= 3 for k in TRANSPORT + PHYSICAL), injector.injected
    assert stored == published  # every published point is in a file, none lost
    # every planned measurement was completed in some file (interrupted ones were retried)
    for i, step in enumerate(PLAN):
        segs = complete[i]
        if step.procedure == "rt_log":
            end = step.parameters["end_K"]
            assert any(s.n_rows and abs(s.columns["temperature_K"][-1] - end)
                       <= max(0.01 * end, 0.02) for s in segs), step.name
        else:
            n = len(step.parameters.get("setpoints_K", step.parameters.get("fields_T", [])))
            done = {s.attrs["index"] for s in segs if s.n_rows == SWEEP["n_points"]}
            assert done == set(range(n)), (step.name, done)
    assert flagged[FLAG_OVERLOAD_LATCHED] and flagged[FLAG_UNLOCKED] \
        and flagged[FLAG_TEMPERATURE_INVALID]
    assert fds1 == fds0
    assert left_running == [], left_running
    # a leak shows in the Python heap (traced); the RSS also holds what HDF5 and the C
    # allocator keep after a day of files and reconnects (~25 MiB, once), so its bound is loose
    assert heap1 - heap0 < 4 * 2**20
    assert rss1 - rss0 < 64 * 2**20
