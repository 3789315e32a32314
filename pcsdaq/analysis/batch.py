"""Fitting many spectra at once: a process pool on this machine, or a Dask cluster.

:func:`fit_many` maps :func:`pcsdaq.analysis.spectrum_fit.fit_spectrum` over spectra in
chunks (one task per chunk keeps the pool's overhead per spectrum small). With
``scheduler`` (a dask.distributed address such as ``tcp://host:8786``, or a
``distributed.Client``) the same chunks run on a Dask cluster; dask is an optional extra
(``pip install pcsdaq[dask]``). Results keep the input order; a spectrum that cannot be
fitted gives ``{"error": "..."}`` instead of stopping the batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from pcsdaq.analysis.io import AnalysisInputError


def _single_threaded_blas() -> None:
    # a 400-point fit is faster on one BLAS thread; several threads per worker only contend
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _worker_start() -> None:
    """Once per pool worker: BLAS on one thread for the worker's life, and the fitting
    modules imported (scipy.signal and scipy.optimize take seconds on a busy machine; a
    forked worker inherits them from the parent, a spawned one imports them here, not in its
    first task)."""
    from pcsdaq.analysis import model_fit, spectrum_fit  # noqa: F401

    model_fit.limit_blas_for_process()


def fit_chunk(jobs: Sequence[tuple]) -> list[dict]:
    """Fit each (bias_V, g, temperature_K, options) of a chunk; errors become {"error": ...}."""
    from pcsdaq.analysis.spectrum_fit import fit_spectrum

    out = []
    for bias_V, g, temperature_K, options in jobs:
        try:
            out.append(fit_spectrum(bias_V, g, temperature_K, **(options or {})))
        except (AnalysisInputError, ValueError, FloatingPointError) as exc:
            out.append({"error": str(exc)})
    return out


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def default_workers() -> int:
    """Worker processes: the cores this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def fit_many(jobs: Sequence[tuple], *, workers: int | None = None, chunk: int | None = None,
             scheduler=None, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Fit (bias_V, g, temperature_K, options) jobs; list of result dicts in input order.

    ``workers`` processes (default: all usable cores; 1 runs in this process); ``chunk``
    spectra per task; ``scheduler`` a Dask scheduler address or Client (then the cluster
    does the work); ``progress(done, total)`` is called as chunks finish."""
    jobs = list(jobs)
    total = len(jobs)
    if not jobs:
        return []
    workers = default_workers() if workers is None else max(int(workers), 1)
    if chunk is None:
        # at least four tasks per worker (a late chunk costs little idle time), at most 50
        # spectra each; one task per spectrum would pay the pool's round trip each time
        chunk = max(1, min(50, total // (4 * workers) or 1))
    parts = _chunks(jobs, chunk)
    results: list[list[dict] | None] = [None] * len(parts)
    done = 0
    if scheduler is not None:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise AnalysisInputError("--scheduler needs dask.distributed: pip install "
                                     "'pcsdaq[dask]'") from None
        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            futures = {client.submit(fit_chunk, part, pure=False): k
                       for k, part in enumerate(parts)}
            for fut in as_completed(futures):
                k = futures[fut]
                results[k] = fut.result()
                done += len(parts[k])
                if progress:
                    progress(done, total)
        finally:
            if client is not scheduler:
                client.close()
    elif workers == 1 or len(parts) == 1:
        for k, part in enumerate(parts):
            results[k] = fit_chunk(part)
            done += len(part)
            if progress:
                progress(done, total)
    else:
        _single_threaded_blas()
        # imported before the workers fork, so that they start with it
        from pcsdaq.analysis import spectrum_fit  # noqa: F401

        with ProcessPoolExecutor(max_workers=min(workers, len(parts)),
                                 initializer=_worker_start) as pool:
            from concurrent.futures import Future
            from concurrent.futures import as_completed as done_first

            local: dict[Future[list[dict]], int] = {
                pool.submit(fit_chunk, part): k for k, part in enumerate(parts)}
            for fut in done_first(local):
                k = local[fut]
                results[k] = fut.result()
                done += len(parts[k])
                if progress:
                    progress(done, total)
    return [r for part in results for r in (part or [])]
