"""``pcsdaq station check FILE``: validate a station file and list its roles (no I/O)."""

from __future__ import annotations

from pathlib import Path

from pcsdaq.cli_args import OneLineParser
from pcsdaq.station_schema import load_station_config


def main(argv: list[str]) -> int:
    """``pcsdaq station check FILE``: validate a station file and list its roles (no I/O)."""
    parser = OneLineParser(prog="pcsdaq station",
                           description="Check a station file without opening anything.")
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate a station file")
    check.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    config = load_station_config(args.file)
    print(f"{config.source}: station '{config.name}' is valid (time scale "
          f"{config.time_scale:g}, VISA library {config.visa_library})")
    for rc in config.roles.values():
        where = f"uses {rc.uses}" if rc.uses else rc.resource
        if rc.uses is None and rc.visa_library != config.visa_library:
            where = f"{where} ({rc.visa_library})"
        limits = ", ".join(f"{k}={v:g}" for k, v in rc.safety.items())
        print(f"  {rc.role:<11} {rc.driver:<13} {where}  [{limits}]")
    return 0
