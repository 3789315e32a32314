"""Least-squares fit of a spectrum to one of the Andreev models, with fixed and bounded
parameters and the full covariance.

Models (pcsdaq.physics.andreev): ``btk`` (Delta, Z, Gamma, scale; P fixed at 0), ``spin``
(Delta, Z, Gamma, P, scale) and ``two-gap`` (Delta, Z, Gamma, Delta2, Gamma2, weight, scale;
P fixed at 0 unless freed). Any parameter can be fixed (``fixed={"P": 0}``) or bounded
(``bounds={"Z": (0, 3)}``).

Speed: Levenberg-Marquardt (MINPACK's lmder, called through scipy's thin ``leastsq``) runs
unbounded on internal variables; a parameter
bounded on both sides is mapped as x = lo + (hi - lo)(sin u + 1)/2 (MINUIT's transform: an
optimum at a bound, such as P = 0, is a smooth minimum in u and converges in a few steps),
one bounded on one side by reflection, x = lo + |u|. The analytic gradients of the model go
through the thermal kernel with the model (one FFT convolution or matrix product for all
columns; only E >= 0 is computed when the grid is symmetric and g(E) even). The
covariance is computed afterwards in the parameters themselves, J^T J at the optimum scaled
by the reduced chi^2. Energies in meV, bias in mV.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares, leastsq

from pcsdaq.analysis.io import AnalysisInputError
from pcsdaq.physics import andreev, btk

MODELS = tuple(andreev.MODEL_PARAMETERS)
GAMMA_MIN_MEV = 1e-3
#: relative tolerances of the optimiser (far below the parameters' statistical errors)
_TOL = 1e-8
#: parameters fixed unless the caller frees them (fixed={"P": None} frees P in two-gap)
DEFAULT_FIXED = {"btk": {"P": 0.0}, "spin": {}, "two-gap": {"P": 0.0}}
#: parameters equal to another unless the caller fixes or frees them (two-gap: one Z for
#: both bands by default; fixed={"Z2": None} fits a second band's Z of its own)
DEFAULT_TIED = {"btk": {}, "spin": {}, "two-gap": {"Z2": "Z"}}


def parameter_names(model: str) -> tuple[str, ...]:
    """All parameter names of ``model``, ending with ``scale``."""
    if model not in andreev.MODEL_PARAMETERS:
        raise AnalysisInputError(f"model {model!r}; allowed: {', '.join(MODELS)}")
    return (*andreev.MODEL_PARAMETERS[model], "scale")


def default_bounds(model: str, span_mV: float) -> dict[str, tuple[float, float]]:
    """Default (lo, hi) of every parameter for a spectrum reaching |V| = span_mV."""
    b = {"delta_meV": (1e-3, span_mV), "Z": (0.0, 10.0), "gamma_meV": (GAMMA_MIN_MEV, span_mV),
         "P": (0.0, 1.0), "delta2_meV": (1e-3, span_mV), "gamma2_meV": (GAMMA_MIN_MEV, span_mV),
         "weight": (0.0, 1.0), "Z2": (0.0, 10.0), "scale": (0.0, math.inf)}
    return {n: b[n] for n in parameter_names(model)}


@dataclass
class ModelFit:
    """Result of :func:`fit_model`: values and standard errors by name (meV for energies),
    the covariance of the free parameters (``free`` order), chi2_red (sum of squared
    residuals / dof, data units squared), rms residual, and the model on the fitted biases."""

    model: str
    values: dict[str, float]
    errors: dict[str, float]
    free: list[str]
    covariance: np.ndarray
    fixed: dict[str, float]
    bounds: dict[str, tuple[float, float]]
    at_bound: list[str]
    chi2_red: float
    rms: float
    n_points: int
    temperature_K: float
    success: bool
    bias_mV: np.ndarray = field(repr=False)
    data: np.ndarray = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    #: parameters set equal to another (name -> the other's name), e.g. {"Z2": "Z"}
    tied: dict[str, str] = field(default_factory=dict)

    @property
    def correlations(self) -> dict[str, float]:
        """Correlation coefficient of each pair of free parameters, keyed 'A~B'."""
        out = {}
        err = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
        for i, a in enumerate(self.free):
            for j in range(i + 1, len(self.free)):
                den = err[i] * err[j]
                out[f"{a}~{self.free[j]}"] = float(self.covariance[i, j] / den) if den > 0 \
                    else math.nan
        return out

    @property
    def residuals(self) -> np.ndarray:
        """Data minus model on the fitted biases."""
        return self.data - self.fitted


def _to_internal(x, lo, hi):
    if math.isfinite(lo) and math.isfinite(hi):
        return math.asin(min(max(2.0 * (x - lo) / (hi - lo) - 1.0, -1.0), 1.0))
    if math.isfinite(lo):
        return x - lo
    if math.isfinite(hi):
        return hi - x
    return x


def _from_internal(u, lo, hi):
    """(x, dx/du) of the internal-to-parameter map (module doc)."""
    if math.isfinite(lo) and math.isfinite(hi):
        return lo + 0.5 * (hi - lo) * (math.sin(u) + 1.0), 0.5 * (hi - lo) * math.cos(u)
    if math.isfinite(lo):
        return lo + abs(u), (1.0 if u >= 0 else -1.0)
    if math.isfinite(hi):
        return hi - abs(u), (-1.0 if u >= 0 else 1.0)
    return u, 1.0


_KERNELS: dict = {}


def _kernel(bias_mV: np.ndarray, temperature_K: float, step_meV: float, smearing_meV: float,
            layout: str = "auto"):
    """The thermal kernel for these biases and settings, kept for the next spectrum measured
    on the same biases at the same temperature (a series or a batch: built once)."""
    key = (hash(bias_mV.tobytes()), bias_mV.size, temperature_K, step_meV, smearing_meV, layout)
    kernel = _KERNELS.get(key)
    if kernel is None or not np.array_equal(kernel.bias_meV, bias_mV):
        kernel = btk.ThermalKernel(bias_mV, temperature_K, step_meV, smearing_meV=smearing_meV,
                                   layout=layout)
        if len(_KERNELS) >= 8:
            _KERNELS.pop(next(iter(_KERNELS)))
        _KERNELS[key] = kernel
    return kernel


class _Evaluator:
    """scale * G(V; params) through the thermal kernel, and its Jacobian by parameter name.

    Set up once per fit: the kernel (cached across fits on the same biases), the energies the
    model is evaluated on (only E >= 0 of a symmetric grid when the convention's g(E) is even:
    half the work), the convention's sampling of the biases."""

    def __init__(self, model, bias_mV, temperature_K, gamma_hint_meV, smearing_meV=0.0,
                 convention="dynes", shared_z2=False):
        self.model = model
        self.convention = convention
        self.shared_z2 = shared_z2
        self.names = parameter_names(model)
        self.bias = bias_mV
        self.fd = convention == "finite-difference"
        sampled = andreev.finite_difference_biases(bias_mV) if self.fd else bias_mV
        self.largest = int(np.argmax(np.abs(bias_mV)))
        self.t0 = temperature_K <= 0 and smearing_meV <= 0
        self.cell = 0.0
        self.even = False
        self.energy = sampled
        if not self.t0:
            step = btk.energy_step_meV(max(temperature_K, 0.05), gamma_hint_meV)
            # re-u2's g has an unresolved step at the gap edge: its fits keep the grid they
            # were validated on (the matrix layout) rather than the aligned convolution grid
            self.kernel = _kernel(sampled, max(temperature_K, 0.0), step, smearing_meV,
                                  "matrix" if convention == "re-u2" else "auto")
            self.cell = self.kernel.step_meV
            self.even = self.kernel.even_from is not None and \
                convention in andreev.EVEN_CONVENTIONS
            self.energy = self.kernel.energy_meV[self.kernel.even_from:] if self.even \
                else self.kernel.energy_meV

    def __call__(self, x: np.ndarray, need_p: bool = True):
        phys = x[:-1]
        scale = x[-1]
        if self.convention == "re-u2":
            stack = andreev.convention_T0_with_gradient(self.convention, self.energy, phys)
        elif self.model == "two-gap":
            d1, z, g1, p, d2, g2, w, z2 = phys
            stack = andreev.two_gap_T0_with_gradient(
                self.energy, d1, z, g1, p, d2, g2, w, z2=None if self.shared_z2 else z2,
                cell_meV=self.cell)
        else:
            # mypy cannot count *phys and fears it reaches the keywords
            stack = andreev.spin_T0_with_gradient(  # type: ignore[misc]
                self.energy, *phys, cell_meV=self.cell, p_gradient=need_p)
        if not self.t0:
            stack = self.kernel.apply(stack, even=self.even)
        if self.fd:
            stack = andreev.finite_difference(stack, self.largest)
        jac = np.empty((len(self.bias), len(x)))
        np.multiply(stack[:, 1:], scale, out=jac[:, :-1])
        jac[:, -1] = stack[:, 0]
        return scale * stack[:, 0], jac


def _quantile(x: np.ndarray, q: float) -> float:
    """np.quantile(x, q) (linear interpolation) from a partial sort: a fraction of the cost."""
    pos = q * (x.size - 1)
    j = int(np.floor(pos))
    k = min(j + 1, x.size - 1)
    part = np.partition(x, (j, k))
    return float(part[j] + (pos - j) * (part[k] - part[j]))


def initial_guess(bias_mV: np.ndarray, g: np.ndarray, two_gaps: bool = False) -> dict[str, float]:
    """Delta from the conductance peaks (or the half-width of the zero-bias feature), Z from
    whether the zero-bias conductance is enhanced (Andreev) or suppressed (tunnel-like)."""
    mag = np.abs(bias_mV)
    outer = mag >= _quantile(mag, 0.85)
    scale = float(np.mean(g[outer]))
    zero = float(np.mean(g[np.argpartition(mag, min(2, mag.size - 1))[:3]])) / scale
    peak = float(np.abs(bias_mV[np.argmax(g)]))
    span = float(np.max(np.abs(bias_mV)))
    if zero > 1.1:  # Andreev-like plateau: the gap is near where g falls to halfway
        half = 0.5 * (zero + 1.0) * scale
        above = np.abs(bias_mV)[g < half]
        delta = float(above.min()) if above.size else span / 4
        z = 0.2
    else:
        delta = peak if 0 < peak < 0.8 * span else span / 4
        z = 0.6 if zero > 0.6 else 1.2
    delta = min(max(delta, 0.02 * span), 0.6 * span)
    delta2 = 2.0 * delta
    # two gaps: the two most prominent conductance peaks at positive bias, if there are two
    pos = bias_mV > 0
    if two_gaps and pos.sum() > 10:
        from scipy.signal import find_peaks

        gp = np.convolve(np.pad(g[pos], 2, mode="edge"), np.ones(5) / 5, mode="valid")
        peaks, props = find_peaks(gp, prominence=0.01 * scale)
        if len(peaks) >= 2:
            top = peaks[np.argsort(props["prominences"])[-2:]]
            d1, d2 = sorted(float(bias_mV[pos][k]) for k in top)
            delta, delta2 = d1, d2
    return {"delta_meV": delta, "Z": z, "gamma_meV": 0.1 * delta, "P": 0.0, "scale": scale,
            "delta2_meV": delta2, "gamma2_meV": 0.1 * delta2, "weight": 0.5, "Z2": z}


_CONTROLLER: list = []
_PROCESS_LIMIT: list = []


def limit_blas_for_process() -> None:
    """One BLAS thread for the rest of this process (a batch worker): its fits then skip the
    per-fit limit of :func:`one_blas_thread`."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; tolerate its absence
        return
    if not _PROCESS_LIMIT:
        _PROCESS_LIMIT.append(threadpool_limits(limits=1, user_api="blas"))


def one_blas_thread():
    """Context in which BLAS runs on one thread (threadpoolctl): the kernel products of a fit
    are small, and several BLAS threads per fit (the default) made a fit 10-15x slower on a
    busy 2-core machine, more so in a pool of worker processes."""
    if _PROCESS_LIMIT:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - a dependency; tolerate its absence
        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def single_blas(func):
    """Decorator: run ``func`` under :func:`one_blas_thread`."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return func(*args, **kwargs)
    return wrapper


def fit_model(bias_mV, g, temperature_K: float, **options) -> ModelFit:
    """:func:`fit_model_unlimited` with BLAS on one thread (see :func:`one_blas_thread`)."""
    with one_blas_thread():
        return fit_model_unlimited(bias_mV, g, temperature_K, **options)


def fit_model_unlimited(bias_mV, g, temperature_K: float, *, model: str = "spin",
                        fixed: dict | None = None, bounds: dict | None = None,
                        initial: dict | None = None, smearing_meV: float = 0.0,
                        convention: str = "dynes") -> ModelFit:
    """Fit ``g`` (any scale; ``scale`` is a free parameter) at biases in mV and T in K.

    ``fixed``: name -> value (None frees a default-fixed parameter); ``bounds``: name ->
    (lo, hi); ``initial``: name -> start value. Raises AnalysisInputError for unknown names,
    bounds that exclude their start, or data that cannot determine the parameters."""
    names = parameter_names(model)
    try:
        andreev.check_convention(model, convention)
    except ValueError as exc:
        raise AnalysisInputError(str(exc)) from None
    bias = np.asarray(bias_mV, dtype=float)
    y = np.asarray(g, dtype=float)
    if convention == "finite-difference" and np.any(np.diff(bias) <= 0):
        # the differences are taken over increasing bias
        order = np.argsort(bias, kind="stable")
        bias, y = bias[order], y[order]
    span = float(np.max(np.abs(bias))) if bias.size else 0.0
    fix = dict(DEFAULT_FIXED[model])
    tied = dict(DEFAULT_TIED[model])
    for k, v in (fixed or {}).items():
        if k not in names:
            raise AnalysisInputError(f"cannot fix {k!r}: model {model} has {', '.join(names)}")
        tied.pop(k, None)
        if v is None:
            fix.pop(k, None)
        else:
            fix[k] = float(v)
    lims = default_bounds(model, max(span, 1e-3))
    for k, (lo, hi) in (bounds or {}).items():
        if k not in names:
            raise AnalysisInputError(f"cannot bound {k!r}: model {model} has {', '.join(names)}")
        if not lo < hi:
            raise AnalysisInputError(f"bound {k}={lo}:{hi}: need LO < HI")
        lims[k] = (float(lo), float(hi))
    free = [n for n in names if n not in fix and n not in tied]
    if bias.size < len(free) + 4:
        raise AnalysisInputError(f"only {bias.size} points for {len(free)} free parameters "
                                 f"(need >= {len(free) + 4})")
    if np.ptp(bias) <= 0:
        raise AnalysisInputError("all biases are equal: nothing to fit")
    if np.ptp(y) <= 0 and y.size:
        raise AnalysisInputError("the conductance is constant: no gap feature to fit")
    start = initial_guess(bias, y, two_gaps=model == "two-gap")
    start.update({k: float(v) for k, v in (initial or {}).items() if k in names})
    if model == "spin" and "P" not in (initial or {}) and "P" not in fix:
        start["P"] = 0.2
    start.update(fix)
    start.update({k: start[src] for k, src in tied.items()})
    x_full = np.array([start[n] for n in names], dtype=float)
    ties = [(names.index(k), names.index(src)) for k, src in tied.items()]
    idx = [names.index(n) for n in free]
    lo = np.array([lims[n][0] for n in free])
    hi = np.array([lims[n][1] for n in free])
    width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    x0 = np.clip(x_full[idx], lo + 1e-6 * width, hi - 1e-6 * width)
    for n, v in fix.items():
        lo_n, hi_n = lims[n]
        if not lo_n <= v <= hi_n:
            raise AnalysisInputError(f"{n} fixed at {v} lies outside its bounds {lo_n}:{hi_n}")
    gammas = [x_full[names.index(n)] for n in ("gamma_meV", "gamma2_meV") if n in names]
    evaluator = _Evaluator(model, bias, temperature_K, max(0.5 * min(gammas), 0.02),
                           smearing_meV, convention, shared_z2="Z2" in tied)
    need_p = "P" in free
    cache: dict = {}

    def full(xf):
        out = x_full.copy()
        out[idx] = xf
        for k, src in ties:
            out[k] = out[src]
        return out

    def evaluate(u):
        key = u.tobytes()
        if key not in cache:
            cache.clear()
            pairs = [_from_internal(ui, lo[i], hi[i]) for i, ui in enumerate(u)]
            xf = np.array([p[0] for p in pairs])
            dx = np.array([p[1] for p in pairs])
            value, jac = evaluator(full(xf), need_p)
            cache[key] = (value - y, jac[:, idx] * dx, value, jac)
        return cache[key]

    u0 = np.array([_to_internal(x0[i], lo[i], hi[i]) for i in range(len(free))])
    with np.errstate(all="ignore"):
        # MINPACK's lmder through leastsq: the same Levenberg-Marquardt as
        # least_squares(method="lm", x_scale="jac") without its per-call wrappers
        u_opt, _, _, _, status = leastsq(lambda u: evaluate(u)[0], u0,
                                         Dfun=lambda u: evaluate(u)[1], full_output=True,
                                         ftol=_TOL, xtol=_TOL, gtol=_TOL,
                                         maxfev=100 * len(u0))
        u_opt = np.atleast_1d(u_opt)
        xf = np.array([_from_internal(ui, lo[i], hi[i])[0] for i, ui in enumerate(u_opt)])
        ok = status in (1, 2, 3, 4) and bool(np.all(np.isfinite(xf)))
        if not ok:
            tr = least_squares(lambda v: evaluator(full(v), need_p)[0] - y,
                               np.clip(np.nan_to_num(xf, nan=0.5), lo + 1e-9 * width,
                                       hi - 1e-9 * width),
                               jac=lambda v: evaluator(full(v), need_p)[1][:, idx],
                               bounds=(lo, hi), method="trf", x_scale="jac")
            xf, ok = tr.x, bool(tr.success)
            cache.clear()
        # the optimiser's last evaluation is usually at its optimum: reuse it
        last = cache.get(u_opt.tobytes()) if ok else None
        value, jac = (last[2], last[3]) if last is not None else evaluator(full(xf), need_p)
    x = full(xf)
    resid = y - value
    dof = max(len(y) - len(free), 1)
    chi2_red = float(np.sum(resid**2) / dof)
    jf = jac[:, idx]
    try:
        jtj = jf.T @ jf
        cov = np.linalg.inv(jtj) * chi2_red if np.linalg.cond(jtj) < 1e14 else \
            np.linalg.pinv(jtj) * chi2_red
    except np.linalg.LinAlgError:
        cov = np.full((len(free), len(free)), math.nan)
    errs = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    values = {n: float(v) for n, v in zip(names, x)}
    values["Z"] = abs(values["Z"])
    if "Z2" in values:
        values["Z2"] = abs(values["Z2"])
    errors = {n: 0.0 for n in names}
    errors.update({n: float(e) for n, e in zip(free, errs)})
    for k, src in tied.items():
        values[k], errors[k] = values[src], errors[src]
    at_bound = [n for i, n in enumerate(free)
                if min(abs(xf[i] - lo[i]), abs(hi[i] - xf[i])) <= 1e-4 * width[i]]
    return ModelFit(model, values, errors, free, cov, fix, lims, at_bound, chi2_red,
                    float(np.sqrt(np.mean(resid**2))), len(y), float(temperature_K), ok,
                    bias, y, value, tied)
