"""The ``pcsdaq`` command line.

Subcommands live in the modules that own them; this file only dispatches, so that
``pcsdaq --help`` stays fast and a subcommand imports only what it needs. Each entry points
at a function ``main(argv: list[str]) -> int`` that builds its own argparse parser (named
``pcsdaq <command>``). A :class:`~pcsdaq.errors.PcsdaqError` (bad input, refused limit,
instrument fault) is printed as one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

from pcsdaq.errors import PcsdaqError

#: command -> (module, function, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("pcsdaq.runner.demo", "main",
             "start the simulated lab, run a short plan, show the data"),
    "run": ("pcsdaq.runner.cli", "main",
            "run a measurement plan (YAML) headless, with progress and safe abort"),
    "export": ("pcsdaq.storage.cli", "main", "export an HDF5 run to CSV"),
    "recover": ("pcsdaq.storage.cli", "recover_main",
                "repair run files a killed run left, in place (every HDF5 tool opens them)"),
    "sim": ("pcsdaq.sim.cli", "main",
            "serve the simulated instruments over TCP ('pcsdaq sim serve')"),
    "station": ("pcsdaq.station", "main", "check a station file ('pcsdaq station check FILE')"),
    "fit": ("pcsdaq.analysis.cli", "fit_main", "BTK fit of one dI/dV spectrum (CSV in, JSON out)"),
    "tc": ("pcsdaq.analysis.cli", "tc_main",
           "Tc from R(T) by the two-slope crossing (CSV in, JSON out)"),
    "gap-fit": ("pcsdaq.analysis.cli", "gap_fit_main", "fit Delta(T) to BCS: Tc, Delta(0), ratio"),
    "diameter": ("pcsdaq.analysis.cli", "diameter_main",
                 "contact diameter from its resistance (Wexler)"),
    "analyze": ("pcsdaq.analysis.cli", "analyze_main",
                "fit every spectrum of an HDF5 run, write results and figures"),
    "gui": ("pcsdaq.gui.app", "main", "the lab GUI (PyQt6)"),
    "safe": ("pcsdaq.safe_state", "main",
             "put every instrument in its safe state now, one line each"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: pcsdaq <command> [options]   (pcsdaq <command> --help for details)", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, _, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pcsdaq`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        from pcsdaq import __version__

        print(f"pcsdaq {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"pcsdaq: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, func_name, _ = COMMANDS[name]
    try:
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(rest) or 0)
    except PcsdaqError as exc:
        # one line even when the input put a line break into the message (a key "\r")
        message = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
        print(f"pcsdaq {name}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pcsdaq {name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
