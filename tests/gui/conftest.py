"""GUI tests: no Qt worker may outlive its test.

Fits, file reads and dashboard readings run as QRunnables in Qt's global thread pool; one
still running when pytest-qt closes the test's widgets would signal a deleted object (a
crash in the next test's event processing). Each test waits for the pool before and after.
"""

import pytest
from PyQt6 import QtCore


def _drain_pool() -> None:
    pool = QtCore.QThreadPool.globalInstance()
    if pool is not None:
        pool.waitForDone(15000)


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test(qapp):
    _drain_pool()
    yield
    _drain_pool()
    qapp.processEvents()
