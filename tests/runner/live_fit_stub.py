"""A stand-in for the live fit that the lag test runs in the live-fit worker process.

It lives in a module of its own, importing nothing of the tests: the spawned worker imports
it by name to unpickle the function (a test module would drag in its conftest, which the
worker may resolve to another folder's)."""

import math
import time


def fixed_time_fit(bias_V, g, temperature_K, options):
    """Stand-in for pcsdaq.runner.live_fit.fit_snapshot that takes a fixed 0.2 s."""
    time.sleep(0.2)
    return {"delta_meV": 1.0, "delta_err_meV": 0.01, "Z": 0.5, "Z_err": 0.01,
            "gamma_meV": 0.1, "gamma_err_meV": 0.01, "P": 0.0, "chi2_red": 1.0,
            "verdict": "good", "model": "btk", "temperature_K": float(temperature_K),
            "scale": 1.0, "offset_mV": 0.0, "delta2_meV": math.nan,
            "gamma2_meV": math.nan, "weight": math.nan, "fit_s": 0.2}
