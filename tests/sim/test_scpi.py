"""The SCPI grammar the Keithley 2000 emulator parses: any spelling of a header the manual
allows (short or long form, any case, optional nodes in or out, the default suffix 1)
resolves to the one canonical header; anything else is -113 / -102."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcsdaq.sim.emulators.keithley2000 import COMMANDS, TREE
from pcsdaq.sim.emulators.scpi import (
    ScpiError,
    parse_header,
    short_form,
    split_command,
    split_message,
)

HEADERS = sorted(h for h in COMMANDS if not h.startswith("*"))


@st.composite
def spelling(draw):
    header = draw(st.sampled_from(HEADERS))
    words = []
    for word, optional in parse_header(header):
        if optional and draw(st.booleans()):
            continue
        form = draw(st.sampled_from([short_form(word), word]))
        form = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in form)
        if draw(st.integers(0, 5)) == 0 and not form[-1].isdigit():
            form += "1"
        words.append(form)
    rooted = draw(st.booleans())
    return header, (":" if rooted else "") + ":".join(words)


@settings(max_examples=200, deadline=None)
@given(spelling())
def test_every_spelling_resolves_to_its_header(case):
    header, text = case
    assert TREE.resolve(text)[0] == TREE.add(header)


@pytest.mark.parametrize(("text", "code"), [
    (":VOLT:NPLCX", -113), (":VOLTAGEX:NPLC", -113), (":VOL:NPLC", -113),
    (":VOLT::NPLC", -102), (":SENS:VOLT:DC:NPLC2", -113),
])
def test_misspellings_are_errors(text, code):
    with pytest.raises(ScpiError) as err:
        TREE.resolve(text)
    assert err.value.code == code


def test_messages_split_outside_quotes():
    assert split_message(":DISP:TEXT:DATA 'a;b';*IDN?") == [":DISP:TEXT:DATA 'a;b'", "*IDN?"]
    assert split_command(":FORM:ELEM READ, UNIT") == (":FORM:ELEM", False, ["READ", "UNIT"])
    assert split_command("*IDN ?") == ("*IDN", True, [])
    with pytest.raises(ScpiError):
        split_command("VOLT$:NPLC 1")
