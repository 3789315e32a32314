"""Query round trips to the emulators in-process and over TCP (pyvisa-py).

Prints the median in ms (goals: <= 0.2 ms in-process, <= 1 ms over TCP) for the LakeShore
372 and, with their full command sets, the SR830 and the Keithley 2000."""

from __future__ import annotations

import statistics
import time

import pyvisa

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab

#: emulator -> (read termination, queries timed)
QUERIES = {
    "ls372": ("\r\n", ("*IDN?", "RDGK? 1")),
    "sr830": ("\n", ("SNAP? 1,2", "SRAT ?")),
    "keithley2000": ("\n", (":SENS:VOLT:DC:NPLC?", ":SENS:DATA:FRES?")),
}


def _median_ms(fn, n: int = 2000) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    """Measure and print the round trips."""
    lab = SimLab(clock=VirtualClock())
    for name, (_, queries) in QUERIES.items():
        ad = lab.adapter(name)
        for q in queries:
            ms = _median_ms(lambda q=q, ad=ad: (ad.write(q), ad.read()))
            print(f"in-process {name:12s} {q:20s} {ms:.4f} ms")
    with lab.serve() as srv:
        rm = pyvisa.ResourceManager("@py")
        for name, (term, queries) in QUERIES.items():
            inst = rm.open_resource(srv.resources[name], read_termination=term,
                                    write_termination=term)
            for q in queries:
                ms = _median_ms(lambda q=q, inst=inst: inst.query(q), 500)
                print(f"tcp        {name:12s} {q:20s} {ms:.4f} ms")
            inst.close()
        rm.close()


if __name__ == "__main__":
    main()
