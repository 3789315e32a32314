"""Child process for the crash and SWMR tests: a RunWriter driven over stdin/stdout.

``python writer_child.py PATH stream``: appends rows x=i, y=2i forever, printing i+1 (the
number appended) on stdout after each append returns; the parent kills it with SIGKILL.
``python writer_child.py PATH step``: for each stdin line "append" appends one row and prints
the count; "segment NAME" starts a segment and prints "ok"; "close" closes and exits.
"""

from __future__ import annotations

import sys

from pcsdaq.storage import RunWriter


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    w = RunWriter(path, procedure="BiasSweep", columns={"x": "V", "y": "S", "z": "K"},
                  signal="y", axes="x", metadata={"sample": "crash test"})
    w.begin_segment("first", temperature_setpoint_K=0.45)
    out = sys.stdout
    if mode == "stream":
        i = 0
        while True:
            if i == 100:
                w.begin_segment("second", temperature_setpoint_K=1.0)
            w.append({"x": float(i), "y": 2.0 * i, "z": 0.45})
            i += 1
            out.write(f"{i}\n")
            out.flush()
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "append":
            i = w.n_rows
            w.append({"x": float(i), "y": 2.0 * i})
            out.write(f"{w.n_rows}\n")
        elif cmd[0] == "segment":
            w.begin_segment(cmd[1])
            out.write("ok\n")
        elif cmd[0] == "meta":
            w.set_metadata(contact_resistance_Ohm=float(cmd[1]))
            out.write("ok\n")
        elif cmd[0] == "close":
            w.FINALIZE_WAIT_S = 0.3  # the parent may hold a RunFollower open
            w.close("aborted", reason="told to stop")
            out.write(f"closed finalized={w.finalized}\n")
            out.flush()
            return
        out.flush()


if __name__ == "__main__":
    main()
