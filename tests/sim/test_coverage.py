"""The command coverage table: generated from the emulators, printed by `pcsdaq sim commands`,
and docs/instruments_coverage.md kept equal to it."""

import pytest

from pcsdaq.sim.coverage import coverage_markdown, coverage_rows, emulator_classes, spellings


def test_committed_page_is_up_to_date(repo_root):
    page = (repo_root / "docs" / "instruments_coverage.md").read_text()
    assert page == coverage_markdown(coverage_rows()) + "\n", (
        "regenerate: pcsdaq sim commands --markdown > docs/instruments_coverage.md")


def test_every_served_emulator_has_rows():
    rows = coverage_rows()
    assert {r.instrument for r in rows} == set(emulator_classes())


@pytest.mark.parametrize("name", ["sr830", "keithley2000", "anc300"])
def test_every_listed_command_is_implemented_and_named_in_a_test(name):
    rows = [r for r in coverage_rows(name) if r.implemented]
    assert len(rows) > 30
    assert [r.command for r in rows if not r.tests] == []


def test_scpi_headers_are_found_in_every_spelling():
    found = spellings("[:SENSe[1]]:DATA:FRESh?")
    assert {"SENS:DATA:FRES", "DATA:FRES", "SENSE:DATA:FRESH"} <= set(found)
    assert spellings("TRCA?") == ["TRCA"]


def test_cli_prints_one_instrument_and_refuses_unknown_names(capsys):
    from pcsdaq.sim.cli import main

    assert main(["commands", "anc300"]) == 0
    out = capsys.readouterr().out
    assert "capw" in out and "sr830" not in out
    assert main(["commands", "nosuch"]) == 2
    assert "known:" in capsys.readouterr().err
