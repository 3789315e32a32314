"""BTK fit speed: pcsdaq's fit vs a straightforward per-point quadrature of the same model.

Prints, from one run on one core: ms per fit of a 400-point spectrum at 2 K with 0.3 % noise
(median of 15 after a warm-up), the time of one model evaluation and of a fit done the
straightforward way (scipy.integrate.quad per bias point, numerical Jacobian; the fit time
is the measured evaluation time times the evaluations such a fit needs, counted on a real
run of the same optimiser), their ratios, and the time of a 50-spectrum temperature series;
then a 5-parameter spin-polarised fit (Delta, Gamma, Z, P, scale; 400 points at 2 K, median of
15) and a batch of 1000 spectra (fit_spectrum with the spin model) on 2 worker processes.
Goals: <= 5 ms per fit, >= 100x faster than the baseline, 50 spectra <= 0.5 s, 5-parameter
fit <= 5 ms, 1000 spectra on 2 cores <= 5 s.
Run: python benchmarks/bench_fit.py
"""

from __future__ import annotations

import os
import statistics
import time

# one BLAS thread: set before numpy is first imported, hence the imports below it
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy.integrate import quad  # noqa: E402
from scipy.optimize import least_squares  # noqa: E402

from pcsdaq.analysis.batch import fit_many  # noqa: E402
from pcsdaq.analysis.btk_fit import fit_btk, fit_series  # noqa: E402
from pcsdaq.analysis.model_fit import fit_model  # noqa: E402
from pcsdaq.physics import andreev, bcs, btk  # noqa: E402

T_K = 2.0
BIAS_V = np.linspace(-8e-3, 8e-3, 400)
TRUE = (2.0, 0.5, 0.1)


def spectrum(delta, z, gamma, t, seed):
    rng = np.random.default_rng(seed)
    g = btk.conductance(BIAS_V * 1e3, delta, z, gamma, t)
    return g * (1 + 0.003 * rng.standard_normal(g.shape))


def quadrature_model(p, bias_mV, t=T_K):
    """The same model, the straightforward way: one adaptive quadrature per bias point."""
    delta, z, gamma, scale = p
    kt = btk.KB_MEV_PER_K * t
    out = np.empty(len(bias_mV))
    for i, v in enumerate(bias_mV):
        def integrand(e, v=v):
            return float(btk.conductance_T0(e, delta, z, gamma)) / \
                (4 * kt * np.cosh((e - v) / (2 * kt)) ** 2)
        out[i] = quad(integrand, v - 40 * kt, v + 40 * kt, limit=200,
                      points=[x for x in (-delta, delta) if abs(x - v) < 40 * kt])[0]
    return scale * out


def median_ms(fn, reps, clock=time.perf_counter):
    times = []
    for _ in range(reps):
        t0 = clock()
        fn()
        times.append((clock() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    """Print the figures."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    g = spectrum(*TRUE, T_K, 1)
    fit_btk(BIAS_V, g, T_K)  # warm-up (BCS table, imports)
    fast_fit = median_ms(lambda: fit_btk(BIAS_V, g, T_K), 15)
    res = fit_btk(BIAS_V, g, T_K)
    p = [res.delta_meV, res.Z, res.gamma_meV, res.scale]
    bias_mV = BIAS_V * 1e3
    fast_eval = median_ms(lambda: btk.conductance(bias_mV, *p[:3], T_K), 15)
    slow_eval = median_ms(lambda: quadrature_model(p, bias_mV), 3)
    # how many model evaluations the straightforward fit needs: run the optimiser with the
    # fast model (same parameters, numerical 2-point Jacobian) and count them
    counted = least_squares(lambda q: q[3] * btk.conductance(bias_mV, *q[:3], T_K) - g,
                            [1.5, 0.3, 0.2, 1.0], jac="2-point", method="trf",
                            bounds=([1e-3, 0, 1e-3, 0], [8, 10, 8, np.inf]))
    n_evals = counted.nfev + 4 * counted.njev
    slow_fit = slow_eval * n_evals
    temps = np.linspace(1.0, 19.0, 50)
    series = [(BIAS_V, spectrum(float(bcs.gap_meV(t, 20.0)), 0.5, 0.15, t, k), t)
              for k, t in enumerate(temps)]
    t0 = time.perf_counter()
    fits = fit_series(series)
    series_s = time.perf_counter() - t0
    print(f"fit of a 400-point spectrum at {T_K} K: {fast_fit:.2f} ms (median of 15; goal "
          f"<= 5 ms); Delta = {res.delta_meV:.4f} meV (true {TRUE[0]})")
    print(f"one model evaluation: pcsdaq {fast_eval:.3f} ms, per-point quadrature "
          f"{slow_eval:.0f} ms, ratio {slow_eval / fast_eval:.0f}x")
    print(f"straightforward fit: {n_evals} evaluations x {slow_eval:.0f} ms = "
          f"{slow_fit / 1e3:.1f} s "
          f"(estimated from the measured evaluation); pcsdaq is {slow_fit / fast_fit:.0f}x faster "
          f"(goal >= 100x)")
    print(f"50-spectrum series: {series_s:.3f} s (goal <= 0.5 s); Delta at 1 K = "
          f"{fits[0].delta_meV:.3f} meV (true {bcs.gap_meV(1.0, 20.0):.3f})")
    rng = np.random.default_rng(5)
    bias_mV = BIAS_V * 1e3
    gs = andreev.spin_conductance(bias_mV, 2.0, 0.5, 0.1, 0.4, T_K) * \
        (1 + 0.003 * rng.standard_normal(bias_mV.shape))
    fit_model(bias_mV, gs, T_K, model="spin")
    spin_ms = median_ms(lambda: fit_model(bias_mV, gs, T_K, model="spin"), 15)
    spin_cpu = median_ms(lambda: fit_model(bias_mV, gs, T_K, model="spin"), 15,
                         time.process_time)
    sres = fit_model(bias_mV, gs, T_K, model="spin").values
    print(f"5-parameter spin fit (Delta, Gamma, Z, P, scale), 400 points at {T_K} K: "
          f"{spin_ms:.2f} ms (median of 15; goal <= 5 ms; CPU time {spin_cpu:.2f} ms, less "
          f"sensitive to other load); P = {sres['P']:.3f} (true 0.4), "
          f"Delta = {sres['delta_meV']:.4f} meV")
    jobs = []
    for k in range(1000):
        p = 0.9 * (k % 10) / 10
        g1 = andreev.spin_conductance(bias_mV, 2.0, 0.5, 0.1, p, T_K) * \
            (1 + 0.003 * rng.standard_normal(bias_mV.shape))
        jobs.append((BIAS_V, g1, T_K, {"model": "spin", "normalized": True}))
    from pcsdaq.analysis.batch import fit_chunk

    fit_chunk(jobs[:2])  # warm-up: the first call imports the preprocessing and dip modules
    t0 = time.process_time()
    fit_chunk(jobs[:50])
    per_ms = (time.process_time() - t0) / 50 * 1e3
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    t0 = time.perf_counter()
    out = fit_many(jobs, workers=2)
    batch_s = time.perf_counter() - t0
    good = sum(r.get("verdict") == "good" for r in out)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"batch of 1000 spectra (spin model, fit_spectrum) on 2 processes: {batch_s:.2f} s "
          f"(goal <= 5 s); {good} verdicts good; one spectrum costs {per_ms:.1f} ms of CPU "
          f"(1000 on 2 free cores: {per_ms / 2:.1f} s); load average {load:.1f}")


if __name__ == "__main__":
    main()
