"""BLAS threads for fitting: one per fit (threadpoolctl), or one for a whole batch worker.

The kernel products of a fit are small: several BLAS threads per fit (the default) made a
fit 10-15x slower on a busy 2-core machine, more so in a pool of worker processes.
"""

from __future__ import annotations

import contextlib
import functools

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
