import pyvisa
from pcsdaq.sim.lab import SimLab

from pcsdaq.clock import VirtualClock


def test_pyvisa_py_queries_ls372_over_tcp():
    lab = SimLab(clock=VirtualClock())
    with lab.serve() as srv:
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(srv.resources["ls372"], read_termination="\r\n",
                                write_termination="\r\n", timeout=2000)
        assert "MODEL372" in inst.query("*IDN?")
        inst.close()
        rm.close()
