import os
from contextlib import contextmanager

import pytest
import pyvisa

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab


@contextmanager
def served_instrument(name, termination):
    """(lab, pyvisa-py resource) for emulator ``name`` of a fresh lab served over TCP."""
    lab = SimLab(clock=VirtualClock())
    with lab.serve() as srv:
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(srv.resources[name], read_termination=termination,
                                write_termination=termination, timeout=2000)
        try:
            yield lab, inst
        finally:
            inst.close()
            rm.close()


def test_pyvisa_py_queries_ls372_over_tcp():
    with served_instrument("ls372", "\r\n") as (_, inst):
        assert "MODEL372" in inst.query("*IDN?")


def test_sim_serve_subprocess(tmp_path):
    import json
    import subprocess
    import sys

    ports = tmp_path / "ports.json"
    proc = subprocess.Popen([sys.executable, "-m", "pcsdaq.cli", "sim", "serve", "--free-ports",
                             "--json", str(ports)], stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(6)]
        assert any(line.startswith("ls372") for line in lines)
        resource = next(line.split()[-1] for line in lines if line.startswith("ami430"))
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(resource, read_termination="\r\n", write_termination="\r\n",
                                timeout=2000)
        assert "American Magnetics" in inst.read()
        inst.read()
        assert float(inst.query("FIELD:MAG?")) == 0.0
        inst.close()
        rm.close()
        assert json.loads(ports.read_text())["ami430"] == resource
    finally:
        proc.terminate()
        assert proc.wait(30) == 0  # generous: a loaded CI machine


def test_over_tcp_a_dmm_reading_takes_its_integration_time():
    with served_instrument("keithley2000", "\n") as (lab, inst):
        inst.write(":SENS:VOLT:DC:NPLC 2")
        t0 = lab.clock.now()
        float(inst.query(":READ?"))
        assert lab.clock.now() - t0 == pytest.approx(2.0 / 50.0)


@pytest.mark.skipif(os.name != "posix" or not os.path.isdir("/dev/pts"),
                    reason="no pseudo-terminals here")
def test_sim_serve_puts_named_instruments_on_serial_ports(tmp_path):
    import json
    import subprocess
    import sys

    ports = tmp_path / "ports.json"
    proc = subprocess.Popen([sys.executable, "-m", "pcsdaq.cli", "sim", "serve", "--free-ports",
                             "--serial", "mercury", "--json", str(ports)],
                            stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline()]  # the ports file is written before the listing
        resources = json.loads(ports.read_text())
        lines += [proc.stdout.readline() for _ in range(len(resources) - 1)]
        assert resources["mercury"].startswith("ASRL/dev/")
        assert resources["sr830"].startswith("TCPIP::")
        assert any(line.split()[-1] == resources["mercury"] for line in lines)
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(resources["mercury"], read_termination="\n",
                                write_termination="\n", timeout=2000, baud_rate=9600)
        assert "MERCURY IPS" in inst.query("*IDN?")
        inst.close()
        rm.close()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_served_lab_runs_every_part_on_the_served_clock_and_seed():
    """`pcsdaq sim serve --time-scale 300 --seed 11`: the lock-in's output filter settles on
    the lab's clock (it kept the station file's 20x clock: a served contact's resistance
    read low, then crept up as if drifting) and the sample's spots come from the seed."""
    from pcsdaq.clock import ScaledClock
    from pcsdaq.sim.cli import served_lab
    from pcsdaq.station import packaged_config

    lab = served_lab(str(packaged_config("station-sim.yaml")), time_scale=300.0, seed=11)
    assert isinstance(lab.clock, ScaledClock) and lab.clock.scale == 300.0
    assert lab.emulators["sr830"].filter.clock is lab.clock
    assert lab.seed == 11 and lab.contact.spots.seed == 11
    default = served_lab(str(packaged_config("station-sim.yaml")))
    assert default.clock.scale == 20.0 and default.seed == 7  # the station file's
