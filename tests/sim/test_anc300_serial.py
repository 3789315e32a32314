"""The ANC300's serial/USB console asks for no password: pcsdaq's driver with an empty
password setting drives the needle over the serial transport."""


import pytest
from served_lab import HAVE_PTYS

from pcsdaq.clock import VirtualClock
from pcsdaq.drivers.anc300 import ANC300
from pcsdaq.sim.lab import SimLab


@pytest.mark.skipif(not HAVE_PTYS, reason="no pseudo-terminals here")
def test_driver_without_password_on_the_serial_console():
    lab = SimLab(clock=VirtualClock())
    with lab.serve_serial(["anc300"]) as server:
        piezo = ANC300(server.resources["anc300"], settings={"password": ""},
                       visa_library="@py", timeout=2000, baud_rate=38400)
        try:
            piezo.set_frequency(200)
            assert piezo.get_frequency() == 200
            piezo.step(10)
            assert piezo.mode == "stp" and lab.emulators["anc300"].steps_done[3] == 10
        finally:
            piezo.adapter.close()
