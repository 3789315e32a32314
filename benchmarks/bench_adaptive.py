"""Adaptive bias sampling against a uniform sweep: lab time to get Delta within 1 %.

For each simulated contact (Delta, Z, Gamma, T below), spectra are drawn from the one BTK
model (pcsdaq.physics.btk) with 0.3 % Gaussian noise per point, on a sweep of +-10 mV with a
lock-in at 30 ms / 24 dB/oct. Both sides obey the same settle rule: a step of the coarse
grid's size waits the time the 4-pole filter needs to reach 99 % (10.05 tau), a larger jump
waits until the same absolute error is reached (procedures.adaptive_sampling.jump_wait_s),
plus 5 ms of I/O per point; the first point of a sweep waits as a full-range jump.

- uniform: complete up-sweeps of N points for N in a ladder; its time is that of the
  smallest N from which every larger N of the ladder fits Delta within 1 % of the truth.
- adaptive: AdaptiveBiasSampler (coarse pass, then batches placed by python-adaptive's
  Learner1D with a curvature x gap-sensitivity loss), run to its point budget; its time is
  the lab time at the end of the first batch from which every later fit is within 1 %.

Each contact is run with several noise seeds; the per-contact ratio is the median over the
seeds. Prints a line per contact and ends with ``median ratio adaptive/uniform: R``.
Goals: median <= 0.5, and no contact above 1.2.
Run: python benchmarks/bench_adaptive.py
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from pcsdaq.analysis.btk_fit import fit_btk  # noqa: E402
from pcsdaq.physics import btk  # noqa: E402
from pcsdaq.procedures.adaptive_sampling import (  # noqa: E402
    AdaptiveBiasSampler,
    StopRule,
    jump_wait_s,
)
from pcsdaq.roles import step_settle_taus  # noqa: E402

V_MAX_MV = 20.0
NOISE = 0.01
TAU_S = 0.03
POLES = 4
IO_S = 5e-3
UNIFORM_LADDER = (11, 15, 21, 31, 41, 51, 61, 81, 101, 121, 151, 201, 251, 301, 401, 501, 601, 801)
ADAPTIVE_BUDGET = 400
COARSE = 15
#: (Delta meV, Z, Gamma meV, T K)
CONTACTS = [
    (1.0, 0.3, 0.05, 0.5), (1.5, 0.5, 0.10, 1.5), (2.0, 0.5, 0.10, 2.0),
    (2.5, 1.0, 0.20, 2.0), (3.0, 0.2, 0.30, 4.0), (2.8, 2.0, 0.15, 1.0),
    (1.2, 0.8, 0.05, 0.45), (2.0, 0.0, 0.40, 3.0),
]
SEEDS = (1, 2, 3, 4, 5, 6)
BATCH = 8


def settle(accuracy: float) -> float:
    """The SR830's n-pole settle time, s, at the benchmark's time constant."""
    return step_settle_taus(POLES, accuracy) * TAU_S


class Contact:
    """Draws noisy normalised spectra of one contact and counts lab time."""

    def __init__(self, params, seed: int) -> None:
        self.delta, self.z, self.gamma, self.t = params
        self.rng = np.random.default_rng(seed)
        self.lab_s = 0.0
        self.last = None

    def measure(self, v_mV: np.ndarray, step_ref: float) -> np.ndarray:
        for v in v_mV:
            jump = 2 * V_MAX_MV if self.last is None else v - self.last
            self.lab_s += jump_wait_s(settle, jump, step_ref) + IO_S
            self.last = v
        g = btk.conductance(np.asarray(v_mV), self.delta, self.z, self.gamma, self.t)
        return g * (1 + NOISE * self.rng.standard_normal(g.shape))


def rel_error(fit, true_delta: float) -> float:
    """|Delta_fit - Delta| / Delta, or inf for a failed fit."""
    if fit is None or not fit.success:
        return float("inf")
    return abs(fit.delta_meV - true_delta) / true_delta


def rms(errors) -> float:
    return float(np.sqrt(np.mean(np.square(errors))))


def uniform_time(params) -> float:
    """Lab time of the smallest ladder N from which every larger N has an rms error of
    Delta over the seeds within 1 %."""
    times, ok = [], []
    for k, n in enumerate(UNIFORM_LADDER):
        errs = []
        for seed in SEEDS:
            c = Contact(params, seed * 1000 + k)
            v = np.linspace(-V_MAX_MV, V_MAX_MV, n)
            g = c.measure(v, step_ref=2 * V_MAX_MV / (COARSE - 1))
            try:
                errs.append(rel_error(fit_btk(v * 1e-3, g, params[3]), params[0]))
            except ValueError:
                errs.append(float("inf"))
        ok.append(rms(errs) <= 0.01)
        times.append(c.lab_s)
    for k in range(len(ok)):
        if all(ok[k:]):
            return times[k]
    return float("inf")


def adaptive_trajectory(params, seed: int) -> list[tuple[float, float, int]]:
    """(lab time, relative error of Delta, points) after every batch of one adaptive run."""
    c = Contact(params, seed * 1000 + 999)
    step_ref = 2 * V_MAX_MV / (COARSE - 1)
    sampler = AdaptiveBiasSampler(V_MAX_MV, params[3], StopRule(None, ADAPTIVE_BUDGET),
                                  n_coarse=COARSE, batch=BATCH)
    x = sampler.first_points()
    out = []
    while x.size:
        g = c.measure(x, step_ref)
        sampler.tell(x, x, g, lab_time_s=c.lab_s)
        out.append((c.lab_s, rel_error(sampler.fit, params[0]), len(sampler.xs)))
        x = sampler.next_points()
    return out


def adaptive_time(params) -> tuple[float, int]:
    """Lab time from which the rms error over the seeds (each seed's latest fit at that
    time) stays within 1 %, and the median number of points then."""
    runs = [adaptive_trajectory(params, seed) for seed in SEEDS]
    checkpoints = sorted({t for run in runs for t, _, _ in run})
    state = []
    for t in checkpoints:
        latest = [max((r for r in run if r[0] <= t), default=(t, float("inf"), 0),
                      key=lambda r: r[0]) for run in runs]
        state.append((t, rms([r[1] for r in latest]), int(np.median([r[2] for r in latest]))))
    for k in range(len(state)):
        if all(s[1] <= 0.01 for s in state[k:]):
            return state[k][0], state[k][2]
    return float("inf"), state[-1][2]


def main() -> int:
    ratios = []
    t0 = time.perf_counter()
    print(f"{'Delta':>5} {'Z':>4} {'Gamma':>5} {'T':>4}  {'uniform s':>9} {'adaptive s':>10} "
          f"{'pts':>4} {'ratio':>6}")
    for params in CONTACTS:
        u = uniform_time(params)
        a, n = adaptive_time(params)
        r = a / u if np.isfinite(u) else (0.0 if np.isfinite(a) else 1.0)
        ratios.append(r)
        print(f"{params[0]:5.2f} {params[1]:4.1f} {params[2]:5.2f} {params[3]:4.2f}  "
              f"{u:9.1f} {a:10.1f} {n:4d} {r:6.2f}", flush=True)
    print(f"worst contact ratio: {max(ratios):.2f} (goal <= 1.2)")
    print(f"benchmark wall time: {time.perf_counter() - t0:.1f} s")
    print(f"median ratio adaptive/uniform: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
