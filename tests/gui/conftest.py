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


@pytest.fixture
def window(qtbot, tmp_path):
    """A main window with no engine (as `pcsdaq gui --watch` opens it), settings in
    tmp_path; stops watching at the end. Test files with a window of their own (on the
    simulated lab) define a fixture of this name, which takes precedence."""
    from pcsdaq.gui.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "gui.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(None, settings=settings)
    qtbot.addWidget(win)
    yield win
    win.stop_watching()


@pytest.fixture
def sim_window(sim_station, tmp_path, qtbot):
    """(lab, station, engine, window): the main window on an engine writing into
    tmp_path/data on the in-process simulated lab, the needle in contact, the dashboard's
    own timer stopped (tests refresh it), settings in tmp_path; the engine is aborted and
    waited for at the end."""
    from pcsdaq.gui.main_window import MainWindow
    from pcsdaq.runner.engine import RunEngine

    lab, station = sim_station
    lab.contact.place()
    settings = QtCore.QSettings(str(tmp_path / "gui.ini"), QtCore.QSettings.Format.IniFormat)
    engine = RunEngine(station, tmp_path / "data")
    win = MainWindow(engine, settings=settings)
    win.dashboard.timer.stop()
    qtbot.addWidget(win)
    yield lab, station, engine, win
    engine.abort("test over")
    engine.wait(10)
