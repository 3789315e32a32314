"""Query round trip to the LakeShore 372 emulator in-process and over TCP (pyvisa-py).

Prints the median in ms (goals: <= 0.2 ms in-process, <= 1 ms over TCP)."""

from __future__ import annotations

import statistics
import time

import pyvisa

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab


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
    ad = lab.adapter("ls372")
    for q in ("*IDN?", "RDGK? 1"):
        print(f"in-process {q:8s} {_median_ms(lambda q=q: (ad.write(q), ad.read())):.4f} ms")
    with lab.serve() as srv:
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(srv.resources["ls372"], read_termination="\r\n",
                                write_termination="\r\n")
        for q in ("*IDN?", "RDGK? 1"):
            print(f"tcp        {q:8s} {_median_ms(lambda q=q: inst.query(q), 500):.4f} ms")
        inst.close()
        rm.close()


if __name__ == "__main__":
    main()
