"""Adaptive bias sampling of a spectrum: where to measure next, and when to stop (no I/O).

A coarse uniform pass first; then batches of points chosen by python-adaptive's
``Learner1D`` with a loss that weighs each interval by how much the conductance bends there
(the package's curvature loss: coherence peaks, dips) times how strongly the conductance
depends on the gap there (|dg/dDelta| of the current BTK fit, so the points go where the
gap's uncertainty shrinks most). After each batch the spectrum is refitted; the sampler
stops when the gap's standard error falls below a target fraction, or a point or lab-time
budget is spent.

The sampler works in the sweep's control variable (the DC bias current, A, for BiasSweep;
any monotonic bias variable in general) and is told back the measured bias in mV and the
conductance, so a current-biased contact whose V(I) is not linear is fitted on its measured
voltages. A batch is returned in sweep order (ascending or descending, whichever starts
nearer the last point) so that the lock-in's filter settles from a neighbouring value, and
:func:`jump_wait_s` gives the longer wait a large jump needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pcsdaq.analysis.btk_fit import BTKResult, fit_btk
from pcsdaq.physics import btk


def jump_wait_s(settle_time: Callable[[float], float], jump: float, step_ref: float,
                base_accuracy: float = 1e-2) -> float:
    """Wait after a bias jump, s, for the lock-in's filter to settle from the previous value.

    ``settle_time(accuracy)`` is the lock-in role's settle time to reach 1 - accuracy of a
    step (e.g. ``lambda a: lockin.settle_time(accuracy=a)``); a step of ``step_ref`` (the
    coarse grid's step, in the control variable's units) settles to ``base_accuracy`` (1 % of
    the step); a jump k times larger leaves the same absolute error only after settling to
    ``base_accuracy / k`` of itself. Never shorter than the wait of a ``step_ref`` step."""
    ratio = abs(jump) / step_ref if step_ref > 0 else 1.0
    accuracy = base_accuracy / max(ratio, 1.0)
    return float(settle_time(accuracy))


@dataclass
class StopRule:
    """When an adaptive spectrum is done: the gap's relative standard error below
    ``delta_rel_err`` (e.g. 0.005), or ``max_points`` measured, or ``max_time_s`` of lab time
    spent (whichever comes first; None switches a budget off)."""

    delta_rel_err: float | None = 0.005
    max_points: int | None = 400
    max_time_s: float | None = None

    def __post_init__(self) -> None:
        if self.delta_rel_err is None and self.max_points is None and self.max_time_s is None:
            raise ValueError("an adaptive sweep needs at least one stop rule "
                             "(delta_rel_err, max_points or max_time_s)")
        for name in ("delta_rel_err", "max_time_s"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be finite and > 0, got {v!r}")
        if self.max_points is not None and (int(self.max_points) != self.max_points
                                            or self.max_points < 8):
            raise ValueError(f"max_points must be an integer >= 8, got {self.max_points!r}")


@dataclass
class AdaptiveBiasSampler:
    """Chooses the biases of one spectrum (see module docstring).

    ``x_max`` the largest |control value| (the sweep spans -x_max..+x_max); ``temperature_K``
    for the fit; ``n_coarse`` points of the first uniform pass; ``batch`` points per later
    batch; ``window_mV`` fits only |V| <= window (intermediate contacts)."""

    x_max: float
    temperature_K: float
    stop: StopRule = field(default_factory=StopRule)
    n_coarse: int = 41
    batch: int = 16
    window_mV: float | None = None
    xs: list[float] = field(default_factory=list, init=False)
    v_mV: list[float] = field(default_factory=list, init=False)
    g: list[float] = field(default_factory=list, init=False)
    fit: BTKResult | None = field(default=None, init=False)
    fits: list[tuple[int, BTKResult]] = field(default_factory=list, init=False)
    reason: str = field(default="", init=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.x_max) and self.x_max > 0):
            raise ValueError(f"x_max must be finite and > 0, got {self.x_max!r}")
        if self.n_coarse < 9 or self.batch < 1:
            raise ValueError("n_coarse must be >= 9 and batch >= 1")

    # -- what to measure -------------------------------------------------------------
    def first_points(self) -> np.ndarray:
        """The coarse pass: ``n_coarse`` uniform points from -x_max to +x_max."""
        return np.linspace(-self.x_max, self.x_max, self.n_coarse)

    def next_points(self) -> np.ndarray:
        """The next batch in sweep order (empty when done): about a quarter placed by
        python-adaptive's curvature loss (features the BTK model may not know, such as
        critical-current dips), the rest greedily where the gap's variance falls most."""
        if self.done:
            return np.empty(0)
        n = self.batch
        if self.stop.max_points is not None:
            n = min(n, self.stop.max_points - len(self.xs))
        n_greedy = 0 if self.fit is None else n - max(1, n // 4)
        pts = np.concatenate([self._curvature_points(n - n_greedy),
                              self._gap_points(n_greedy)])
        pts = np.sort(pts)
        last = self.xs[-1] if self.xs else -self.x_max
        if abs(pts[-1] - last) < abs(pts[0] - last):
            pts = pts[::-1]
        return pts

    def _curvature_points(self, n: int) -> np.ndarray:
        """``n`` points where python-adaptive's curvature loss is largest."""
        if n <= 0:
            return np.empty(0)
        # imported here: python-adaptive takes seconds to import, and only this needs it
        import adaptive
        from adaptive.learner.learner1D import curvature_loss_function

        learner = adaptive.Learner1D(None, (-self.x_max, self.x_max),
                                     loss_per_interval=curvature_loss_function())
        order = np.argsort(self.xs)
        g = np.asarray(self.g)[order]
        learner.tell_many(np.asarray(self.xs)[order].tolist(), (g / np.median(g)).tolist(),
                          force=True)
        pts, _ = learner.ask(n, tell_pending=False)
        return np.asarray(pts, dtype=float)

    def _gap_points(self, n: int) -> np.ndarray:
        """``n`` points chosen one by one where one more measurement lowers the variance of
        Delta most, given the fit's covariance of (Delta, Z, Gamma, scale) and the noise:
        a candidate with model gradient j lowers Var(Delta) by (C j)_0^2 / (s^2 + j.C.j)."""
        if n <= 0 or self.fit is None:
            return np.empty(0)
        order = np.argsort(self.xs)
        xs = np.asarray(self.xs)[order]
        vs = np.asarray(self.v_mV)[order]
        cand_x = np.linspace(-self.x_max, self.x_max, 401)
        cand_v = np.interp(cand_x, xs, vs)
        if self.window_mV is not None:
            keep = np.abs(cand_v) <= self.window_mV
            cand_x, cand_v = cand_x[keep], cand_v[keep]
        jac_meas = self._gradient(np.asarray(self.v_mV))
        jac_cand = self._gradient(cand_v)
        noise2 = max(self.fit.chi2_red, 1e-12)
        cov = noise2 * np.linalg.pinv(jac_meas.T @ jac_meas)
        chosen: list[float] = []
        for _ in range(n):
            cj = jac_cand @ cov  # (m, 4): C j for every candidate (C symmetric)
            denom = noise2 + np.einsum("ij,ij->i", cj, jac_cand)
            gain = cj[:, 0] ** 2 / denom
            k = int(np.argmax(gain))
            chosen.append(float(cand_x[k]))
            cov = cov - np.outer(cj[k], cj[k]) / denom[k]
        return np.asarray(chosen)

    def _gradient(self, v_mV: np.ndarray) -> np.ndarray:
        """d(scale * G)/d(Delta, Z^2, Gamma, scale) at biases ``v_mV`` for the current fit
        (differences of the one BTK model). Z enters only as Z^2, so the derivative is taken
        in Z^2: d/dZ vanishes at Z = 0 and would leave the information matrix singular."""
        f = self.fit
        assert f is not None
        t = self.temperature_K
        delta, q, gamma, scale = f.delta_meV, f.Z ** 2, max(f.gamma_meV, 1e-3), f.scale

        def g(d: float, qq: float, gm: float) -> np.ndarray:
            return btk.conductance(v_mV, d, math.sqrt(max(qq, 0.0)), gm, t)

        hd, hg, hq = 1e-3 * max(delta, 1e-2), 1e-3 * max(gamma, 1e-2), 1e-3 * max(q, 1e-2)
        q_dn = max(q - hq, 0.0)
        cols = [scale * (g(delta + hd, q, gamma) - g(delta - hd, q, gamma)) / (2 * hd),
                scale * (g(delta, q + hq, gamma) - g(delta, q_dn, gamma)) / (q + hq - q_dn),
                scale * (g(delta, q, gamma + hg) - g(delta, q, gamma - hg)) / (2 * hg),
                g(delta, q, gamma)]
        return np.stack(cols, axis=1)

    # -- what was measured -----------------------------------------------------------
    def tell(self, xs, v_mV, g, lab_time_s: float | None = None) -> None:
        """Record measured points (control values, bias in mV, conductance) and refit."""
        xs, v_mV, g = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (xs, v_mV, g))
        if not (xs.shape == v_mV.shape == g.shape):
            raise ValueError("xs, v_mV and g must have the same length")
        keep = np.isfinite(xs) & np.isfinite(v_mV) & np.isfinite(g)
        self.xs.extend(xs[keep].tolist())
        self.v_mV.extend(v_mV[keep].tolist())
        self.g.extend(g[keep].tolist())
        self._refit()
        self._check_stop(lab_time_s)

    def _refit(self) -> None:
        """Fit from the previous result and from the data's own initial guess; keep the one
        with the lower chi^2 (a warm start alone can stay in a side minimum)."""
        if len(self.xs) < 9:
            return
        bias_V, g = np.asarray(self.v_mV) * 1e-3, np.asarray(self.g)
        starts: list[dict | None] = [None]
        if self.fit is not None and self.fit.success:
            starts.append(self.fit.as_dict())
        best = None
        for start in starts:
            try:
                fit = fit_btk(bias_V, g, self.temperature_K, window_mV=self.window_mV,
                              initial=start)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if best is None or (fit.success, -fit.chi2_red) > (best.success, -best.chi2_red):
                best = fit
        if best is not None:
            self.fit = best
            self.fits.append((len(self.xs), best))

    def _check_stop(self, lab_time_s: float | None) -> None:
        s = self.stop
        f = self.fit
        if (s.delta_rel_err is not None and f is not None and f.success
                and len(self.xs) > self.n_coarse
                and f.delta_meV_err < s.delta_rel_err * f.delta_meV):
            self.reason = (f"Delta error {f.delta_meV_err:.4g} meV < "
                           f"{s.delta_rel_err:g} x {f.delta_meV:.4g} meV")
        elif s.max_points is not None and len(self.xs) >= s.max_points:
            self.reason = f"point budget {s.max_points} reached"
        elif s.max_time_s is not None and lab_time_s is not None and lab_time_s >= s.max_time_s:
            self.reason = f"time budget {s.max_time_s:g} s reached"

    @property
    def done(self) -> bool:
        """True once a stop rule has fired (``reason`` says which)."""
        return bool(self.reason)
