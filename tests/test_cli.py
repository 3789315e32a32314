"""The console script dispatches to every advertised subcommand."""

import importlib
import subprocess
import sys

import pytest

from pcsdaq.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_resolves_to_a_function(name):
    module, func, _ = COMMANDS[name]
    assert callable(getattr(importlib.import_module(module), func))


def test_unknown_command_fails(capsys):
    assert main(["no-such-command"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_console_script_installed():
    out = subprocess.run([sys.executable, "-m", "pcsdaq.cli", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "demo" in out.stdout
