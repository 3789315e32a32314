"""Run by tests/gui/test_engine_process.py as a GUI's process stand-in: a RemoteEngine on
the simulated lab runs a long bias sweep into DATA; prints the engine's pid, then "running"
once points arrive, then waits to be killed."""

import sys
import threading
import time

from pcsdaq.gui.engine_process import RemoteEngine
from pcsdaq.runner.plan import PlanStep

if __name__ == "__main__":
    engine = RemoteEngine(None, False, sys.argv[1], time_scale=float(sys.argv[2]))
    print(engine.process.pid, flush=True)
    points = threading.Event()
    engine.subscribe(lambda ev: points.set() if ev.get("type") == "point" else None)
    engine.enqueue(PlanStep("bias_sweep", {"n_points": 2001}))
    engine.start()
    points.wait(60)
    print("running", flush=True)
    time.sleep(600)
