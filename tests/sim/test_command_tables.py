"""Every header in the COMMANDS table of the Lake Shore, AMI 430, Mercury iPS and IPS120
emulators is exercised: each query answers, each setting is taken without an error (a set
followed by its query reads the value back where the box has one)."""

import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.lab import SimLab

COMMON_LS = {"*IDN?": "*IDN?", "*RST": "*RST", "*CLS": "*CLS", "*ESE": "*ESE 4",
             "*ESE?": "*ESE?", "*ESR?": "*ESR?", "*SRE": "*SRE 0", "*SRE?": "*SRE?",
             "*STB?": "*STB?", "*OPC": "*OPC", "*OPC?": "*OPC?", "*TST?": "*TST?",
             "*WAI": "*WAI"}
LS336 = {**COMMON_LS, "KRDG?": "KRDG? B", "CRDG?": "CRDG? A", "SRDG?": "SRDG? C",
         "RDGST?": "RDGST? A", "INNAME": 'INNAME C,"Plate"', "INNAME?": "INNAME? C",
         "INTYPE": "INTYPE B,3,1,0,1,1", "INTYPE?": "INTYPE? B", "INCRV": "INCRV A,21",
         "INCRV?": "INCRV? A", "FILTER": "FILTER A,1,10,2", "FILTER?": "FILTER? A",
         "SETP": "SETP 2,10", "SETP?": "SETP? 2", "RANGE": "RANGE 2,1", "RANGE?": "RANGE? 2",
         "PID": "PID 2,50,20,0", "PID?": "PID? 2", "RAMP": "RAMP 2,1,5", "RAMP?": "RAMP? 2",
         "RAMPST?": "RAMPST? 2", "MOUT": "MOUT 3,25", "MOUT?": "MOUT? 3",
         "OUTMODE": "OUTMODE 3,3,0,0", "OUTMODE?": "OUTMODE? 3",
         "HTRSET": "HTRSET 1,2,2,0,1", "HTRSET?": "HTRSET? 1", "HTR?": "HTR? 1",
         "AOUT?": "AOUT? 3", "HTRST?": "HTRST? 1", "ZONE": "ZONE 1,1,10,50,20,0,0,2,1,0",
         "ZONE?": "ZONE? 1,1", "MODE": "MODE 1", "MODE?": "MODE?",
         "TLIMIT": "TLIMIT A,300", "TLIMIT?": "TLIMIT? A",
         "CRVHDR": 'CRVHDR 30,"RX-102B","X1234",4,40,1', "CRVHDR?": "CRVHDR? 30"}
LS372 = {**COMMON_LS, "RDGK?": "RDGK? 1", "KRDG?": "KRDG? A", "RDGR?": "RDGR? 2",
         "SRDG?": "SRDG? 3", "RDGPWR?": "RDGPWR? 1", "RDGST?": "RDGST? 16",
         "RDGSTL?": "RDGSTL?", "SCAN": "SCAN 2,0", "SCAN?": "SCAN?",
         "INSET": "INSET 2,1,5,3,0,1", "INSET?": "INSET? 2",
         "INTYPE": "INTYPE 2,0,5,1,10,0,1", "INTYPE?": "INTYPE? 2",
         "FILTER": "FILTER 2,1,10,10", "FILTER?": "FILTER? 2", "INNAME": 'INNAME 2,"Still"',
         "INNAME?": "INNAME? 2", "INCRV": "INCRV 2,3", "INCRV?": "INCRV? 2",
         "OUTMODE": "OUTMODE 1,2,A,0,0,0,1", "OUTMODE?": "OUTMODE? 1", "SETP": "SETP 1,3",
         "SETP?": "SETP? 1", "PID": "PID 1,10,20,0", "PID?": "PID? 1", "RANGE": "RANGE 1,1",
         "RANGE?": "RANGE? 1", "HTRSET": "HTRSET 0,100,8,0,1", "HTRSET?": "HTRSET? 0",
         "HTR?": "HTR?", "AOUT?": "AOUT? 1", "HTRST?": "HTRST? 0", "RAMP": "RAMP 1,1,2",
         "RAMP?": "RAMP? 1", "RAMPST?": "RAMPST? 1", "MOUT": "MOUT 1,5", "MOUT?": "MOUT? 1",
         "STILL": "STILL 12", "STILL?": "STILL?", "FREQ": "FREQ A,2", "FREQ?": "FREQ? A",
         "TLIMIT": "TLIMIT 3,10", "TLIMIT?": "TLIMIT? 3",
         "CRVHDR": 'CRVHDR 30,"RX-102B","X1234",4,40,1', "CRVHDR?": "CRVHDR? 30"}
LS370 = {**{h: LS372[h] for h in ("RDGK?", "RDGR?", "RDGPWR?", "RDGST?", "SCAN", "SCAN?",
                                  "INSET", "INSET?", "FILTER", "FILTER?", "HTR?", "STILL",
                                  "STILL?")},
         **{h: v for h, v in COMMON_LS.items() if h != "*WAI"}, "HTRST?": "HTRST?",
         "RAMPST?": "RAMPST?", "RDGRNG": "RDGRNG 1,0,5,10,0,0", "RDGRNG?": "RDGRNG? 1",
         "CSET": "CSET 1,0,1,10,1,100,120", "CSET?": "CSET?", "CMODE": "CMODE 3",
         "CMODE?": "CMODE?", "SETP": "SETP 1.5", "SETP?": "SETP?", "PID": "PID 5,10,0",
         "PID?": "PID?", "HTRRNG": "HTRRNG 2", "HTRRNG?": "HTRRNG?", "RAMP": "RAMP 0,1",
         "RAMP?": "RAMP?", "MOUT": "MOUT 3", "MOUT?": "MOUT?",
         "ANALOG": "ANALOG 2,0,2,1,1,500,0,10", "ANALOG?": "ANALOG? 2", "AOUT?": "AOUT? 2"}
AMI = {"*IDN?": "*IDN?", "*RST": "*RST", "*CLS": "*CLS", "*ESR?": "*ESR?", "*ESE": "*ESE 0",
       "*ESE?": "*ESE?", "*SRE": "*SRE 0", "*SRE?": "*SRE?", "*STB?": "*STB?",
       "*OPC": "*OPC", "*OPC?": "*OPC?", "*TST?": "*TST?", "SYSTem:ERRor?": "SYST:ERR?",
       "SYSTem:LOCal": "SYST:LOC", "SYSTem:REMote": "SYSTEM:REMOTE", "STATE?": "STATE?",
       "FIELD:MAGnet?": "FIELD:MAG?", "CURRent:MAGnet?": "CURR:MAG?",
       "CURRent:SUPPly?": "CURR:SUPP?", "VOLTage:MAGnet?": "VOLT:MAG?",
       "VOLTage:SUPPly?": "VOLT:SUPP?", "INDuctance?": "IND?",
       "CONFigure:FIELD:TARGet": "CONF:FIELD:TARG 0.1", "FIELD:TARGet?": "FIELD:TARG?",
       "CONFigure:CURRent:TARGet": "CONF:CURR:TARG 2", "CURRent:TARGet?": "CURR:TARG?",
       "CONFigure:FIELD:UNITS": "CONF:FIELD:UNITS 1", "FIELD:UNITS?": "FIELD:UNITS?",
       "CONFigure:RAMP:RATE:UNITS": "CONF:RAMP:RATE:UNITS 1",
       "RAMP:RATE:UNITS?": "RAMP:RATE:UNITS?", "CONFigure:RAMP:RATE:SEGments":
       "CONF:RAMP:RATE:SEG 2", "RAMP:RATE:SEGments?": "RAMP:RATE:SEG?",
       "CONFigure:RAMP:RATE:FIELD": "CONF:RAMP:RATE:FIELD 1,0.2,3",
       "RAMP:RATE:FIELD:#?": "RAMP:RATE:FIELD:1?",
       "CONFigure:RAMP:RATE:CURRent": "CONF:RAMP:RATE:CURR 2,1,70",
       "RAMP:RATE:CURRent:#?": "RAMP:RATE:CURR:2?", "CONFigure:COILconst": "CONF:COIL 0.1",
       "COILconst?": "COIL?", "CONFigure:CURRent:LIMit": "CONF:CURR:LIM 75",
       "CURRent:LIMit?": "CURR:LIM?", "CONFigure:VOLTage:LIMit": "CONF:VOLT:LIM 2",
       "VOLTage:LIMit?": "VOLT:LIM?", "CONFigure:STABility": "CONF:STAB 10",
       "STABility?": "STAB?", "RAMP": "RAMP", "PAUSE": "PAUSE", "ZERO": "ZERO",
       "INCR": "INCR", "DECR": "DECR",
       "PSwitch": "PS 0", "PSwitch?": "PS?", "CONFigure:PSwitch": "CONF:PS 1",
       "PSwitch:INSTalled?": "PS:INST?", "CONFigure:PSwitch:CURRent": "CONF:PS:CURR 30",
       "PSwitch:CURRent?": "PS:CURR?", "CONFigure:PSwitch:HeatTIME": "CONF:PS:HTIME 30",
       "PSwitch:HeatTIME?": "PS:HTIME?", "CONFigure:PSwitch:CoolTIME": "CONF:PS:CTIME 30",
       "PSwitch:CoolTIME?": "PS:CTIME?",
       "CONFigure:PSwitch:PowerSupplyRampRate": "CONF:PS:PSRR 5",
       "PSwitch:PowerSupplyRampRate?": "PS:PSRR?", "PERSistent?": "PERS?",
       "QUench": "QU 0", "QUench?": "QU?", "QUench:COUNT?": "QU:COUNT?",
       "CONFigure:QUench:DETect": "CONF:QU:DET 1", "QUench:DETect?": "QU:DET?"}


def _exercise(emu, examples, check_clean):
    assert set(emu.COMMANDS) == set(examples), "a header without an example"
    for header, line in examples.items():
        reply = emu.handle(line)
        if header.endswith("?"):
            assert reply, f"{line!r} unanswered"
        else:
            assert reply is None, f"{line!r} answered {reply!r}"
        assert check_clean(emu), f"{line!r} was refused"


@pytest.mark.parametrize(("name", "examples"), [("ls336", LS336), ("ls350", LS336),
                                                ("ls372", LS372), ("ls370", LS370)])
def test_every_lakeshore_header(name, examples):
    lab = SimLab(clock=VirtualClock())
    emu = lab.emulators[name]
    _exercise(emu, examples, lambda e: e.esr & 48 == 0)
    if "CRVHDR?" in examples:  # the user curve header went in and reads back padded
        assert emu.handle("CRVHDR? 30") == "RX-102B        ,X1234     ,4,+40.000,1"


def test_every_ami430_header():
    lab = SimLab(clock=VirtualClock())
    _exercise(lab.emulators["ami430"], AMI, lambda e: not e.errors)


def test_every_mercury_header():
    lab = SimLab({"mercury_axes": "XYZ"}, clock=VirtualClock())
    ips = lab.emulators["mercury"]
    for header in ips.COMMANDS:
        line = header if not header.startswith("SET:") else header + (
            ":ON" if header.endswith("SWHT") else ":HOLD" if header.endswith("ACTN") else ":0.1")
        reply = ips.handle(line)
        assert reply and not reply.endswith(("NOT_FOUND", "INVALID", "DENIED")), (line, reply)


def test_every_ips120_header():
    lab = SimLab(clock=VirtualClock())
    ips = lab.emulators["ips120"]
    examples = {"C": "C3", "A": "A0", "J": "J0.1", "I": "I1", "T": "T0.2", "S": "S2",
                "H": "H1", "R": "R18", "X": "X", "V": "V", "Q": "Q0", "M": "M1",
                "$": "$A0", "@": "@1X"}
    assert set(examples) == set(ips.COMMANDS)
    for letter, line in examples.items():
        reply = ips.handle(line)
        if letter in "Q$":
            assert reply is None
        elif letter == "V":  # the version string is the one reply without the echo
            assert reply.startswith("IPS120-10")
        else:
            assert reply and reply[0] == line.lstrip("@1")[0], (line, reply)
