"""The Keithley 2000's SCPI command tree (manual section 5): measurement functions, their
per-function settings with ranges and *RST values, the other subsystems' stored settings, and
the resolved tree built from them (:data:`TREE`, :data:`SPECS`, :func:`normalize`).
Spec tuples: ("num", low, high, default), ("bool", default),
("choice", [options in the manual's notation], default), ("str", default)."""

from __future__ import annotations

import functools

from pcsdaq.sim.emulators.scpi import CommandTree, ScpiError, minimal_form

#: what a reading beyond its range reads
OVERFLOW = 9.9e37

#: function key (as :SENS:FUNC? returns it) -> node path in the manual's notation
FUNCTIONS = {
    "VOLT:DC": "VOLTage[:DC]", "VOLT:AC": "VOLTage:AC", "CURR:DC": "CURRent[:DC]",
    "CURR:AC": "CURRent:AC", "RES": "RESistance", "FRES": "FRESistance",
    "FREQ": "FREQuency", "PER": "PERiod", "TEMP": "TEMPerature", "DIOD": "DIODe",
    "CONT": "CONTinuity",
}
#: measurement ranges (upper limits in V, A, Ohm) of the ranged functions
RANGES = {
    "VOLT:DC": (0.1, 1.0, 10.0, 100.0, 1000.0), "VOLT:AC": (0.1, 1.0, 10.0, 100.0, 750.0),
    "CURR:DC": (0.01, 0.1, 1.0, 3.0), "CURR:AC": (1.0, 3.0),
    "RES": (100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8), "FRES": (100.0, 1e3, 1e4, 1e5, 1e6, 1e7),
}
#: reading units as FORM:ELEM UNIT appends them
UNITS = {"VOLT:DC": "VDC", "VOLT:AC": "VAC", "CURR:DC": "ADC", "CURR:AC": "AAC",
         "RES": "OHM", "FRES": "OHM4W", "FREQ": "HZ", "PER": "SEC", "TEMP": "C",
         "DIOD": "VDC", "CONT": "OHM"}

_NPLC = {"NPLCycles": ("num", 0.01, 10.0, 1.0)}
_REF = {"REFerence": ("num", -1e9, 1e9, 0.0), "REFerence:STATe": ("bool", 0),
        "DIGits": ("num", 4, 7, 7)}
_AVER = {"AVERage:STATe": ("bool", 0), "AVERage:TCONtrol": ("choice", ["REPeat", "MOVing"], "MOV"),
         "AVERage:COUNt": ("num", 1, 100, 10)}


def _ranged(key: str) -> dict:
    top = RANGES[key][-1] * 1.01
    return {"RANGe[:UPPer]": ("num", 0.0, top, RANGES[key][-1]), "RANGe:AUTO": ("bool", 1)}


#: function -> {setting node path (manual notation): spec}
FUNCTION_SETTINGS: dict[str, dict] = {
    "VOLT:DC": {**_NPLC, **_REF, **_AVER, **_ranged("VOLT:DC")},
    "VOLT:AC": {**_NPLC, **_REF, **_AVER, **_ranged("VOLT:AC"),
                "DETector:BANDwidth": ("num", 3.0, 300e3, 30.0)},
    "CURR:DC": {**_NPLC, **_REF, **_AVER, **_ranged("CURR:DC")},
    "CURR:AC": {**_NPLC, **_REF, **_AVER, **_ranged("CURR:AC"),
                "DETector:BANDwidth": ("num", 3.0, 300e3, 30.0)},
    "RES": {**_NPLC, **_REF, **_AVER, **_ranged("RES")},
    "FRES": {**_NPLC, **_REF, **_AVER, **_ranged("FRES")},
    "FREQ": {**_REF, "APERture": ("num", 0.01, 0.273, 0.1),
             "THReshold:VOLTage:RANGe": ("num", 0.0, 1010.0, 10.0)},
    "PER": {**_REF, "APERture": ("num", 0.01, 0.273, 0.1),
            "THReshold:VOLTage:RANGe": ("num", 0.0, 1010.0, 10.0)},
    "TEMP": {**_NPLC, **_REF, **_AVER, "TCouple:TYPE": ("choice", ["J", "K", "T"], "J")},
    "DIOD": {"CURRent:RANGe[:UPPer]": ("num", 1e-5, 1e-3, 1e-3)},
    "CONT": {"THReshold": ("num", 1.0, 1000.0, 10.0)},
}

#: other stored settings: header (manual notation) -> spec
SETTINGS: dict[str, tuple] = {
    ":INITiate:CONTinuous": ("bool", 1),
    ":TRIGger[:SEQuence[1]]:COUNt": ("num", 1, 9999, 1),  # or INF
    ":TRIGger[:SEQuence[1]]:DELay": ("num", 0.0, 999999.999, 0.0),
    ":TRIGger[:SEQuence[1]]:DELay:AUTO": ("bool", 1),
    ":TRIGger[:SEQuence[1]]:SOURce": ("choice", ["IMMediate", "EXTernal", "TIMer", "MANual",
                                                 "BUS"], "IMM"),
    ":TRIGger[:SEQuence[1]]:TIMer": ("num", 0.001, 999999.999, 0.1),
    ":SAMPle:COUNt": ("num", 1, 1024, 1),
    ":FORMat[:DATA]": ("choice", ["ASCii"], "ASC"),
    ":FORMat:BORDer": ("choice", ["NORMal", "SWAPped"], "SWAP"),
    ":SYSTem:BEEPer[:STATe]": ("bool", 1),
    ":SYSTem:KCLick": ("bool", 1),
    ":SYSTem:AZERo[:STATe]": ("bool", 1),
    ":SYSTem:POSetup": ("choice", ["RST", "PRESet", "SAV0", "SAV1", "SAV2", "SAV3", "SAV4"],
                        "PRES"),
    ":STATus:MEASurement:ENABle": ("num", 0, 65535, 0),
    ":STATus:QUEStionable:ENABle": ("num", 0, 65535, 0),
    ":STATus:OPERation:ENABle": ("num", 0, 65535, 0),
    ":STATus:QUEue:ENABle": ("str", "(-440:+900)"),
    ":STATus:QUEue:DISable": ("str", "()"),
    ":DISPlay:ENABle": ("bool", 1),
    ":DISPlay[:WINDow[1]]:TEXT:DATA": ("str", '""'),
    ":DISPlay[:WINDow[1]]:TEXT:STATe": ("bool", 0),
    ":UNIT:TEMPerature": ("choice", ["C", "F", "K"], "C"),
    ":TRACe:POINts": ("num", 2, 1024, 1024),
    ":TRACe:FEED": ("choice", ["SENSe", "CALCulate", "NONE"], "SENS"),
    ":TRACe:FEED:CONTrol": ("choice", ["NEXT", "NEVer"], "NEV"),
    ":CALCulate[1]:FORMat": ("choice", ["NONE", "MXB", "PERCent"], "NONE"),
    ":CALCulate[1]:KMATh:MMFactor": ("num", -1e8, 1e8, 1.0),
    ":CALCulate[1]:KMATh:MBFactor": ("num", -1e8, 1e8, 0.0),
    ":CALCulate[1]:KMATh:MUNits": ("str", '"MX+B"'),
    ":CALCulate[1]:KMATh:PERCent": ("num", -1e8, 1e8, 1.0),
    ":CALCulate[1]:STATe": ("bool", 0),
    "*ESE": ("num", 0, 255, 0),
    "*SRE": ("num", 0, 255, 0),
}

#: commands that do something (not stored settings): header -> description
ACTIONS: dict[str, str] = {
    "*IDN?": "identification", "*RST": "reset (continuous initiation off)",
    "*CLS": "clear status and the error queue", "*ESR?": "read and clear the event register",
    "*STB?": "status byte", "*OPC": "operation complete bit", "*OPC?": "1 when done",
    "*WAI": "wait for pending operations", "*TRG": "bus trigger", "*TST?": "self-test: 0",
    "*SAV": "save the setup (0-4)", "*RCL": "recall a saved setup (0-4)",
    "[:SENSe[1]]:FUNCtion": "measurement function ('VOLT:DC', 'RES', 'FRES' ...)",
    "[:SENSe[1]]:FUNCtion?": "present function, quoted",
    "[:SENSe[1]]:DATA[:LATest]?": "the latest reading",
    "[:SENSe[1]]:DATA:FRESh?": "a new reading (waits for it)",
    ":FETCh?": "the readings of the last trigger cycle",
    ":READ?": ":ABORt, :INITiate, :FETCh?",
    ":INITiate[:IMMediate]": "one trigger cycle", ":ABORt": "abort the trigger cycle",
    ":CONFigure?": "present function, quoted",
    ":SYSTem:ERRor?": "next error queue entry", ":STATus:QUEue[:NEXT]?": "next error queue entry",
    ":STATus:QUEue:CLEar": "clear the error queue",
    ":STATus:PRESet": "status registers to defaults",
    ":STATus:MEASurement[:EVENt]?": "measurement event register",
    ":STATus:MEASurement:CONDition?": "measurement condition register",
    ":STATus:QUEStionable[:EVENt]?": "questionable event register",
    ":STATus:QUEStionable:CONDition?": "questionable condition register",
    ":STATus:OPERation[:EVENt]?": "operation event register",
    ":STATus:OPERation:CONDition?": "operation condition register",
    ":SYSTem:PRESet": "defaults with continuous initiation on", ":SYSTem:VERSion?": "SCPI version",
    ":SYSTem:LFRequency?": "line frequency, Hz", ":SYSTem:LOCal": "go to local",
    ":SYSTem:REMote": "go to remote", ":SYSTem:RWLock": "remote with local lockout",
    ":SYSTem:CLEar": "clear the error queue", ":SYSTem:KEY": "simulate a key press (1-31)",
    ":TRIGger[:SEQuence[1]]:SIGNal": "bypass the trigger wait once",
    ":TRACe:CLEar": "clear the reading buffer", ":TRACe:FREE?": "bytes free, bytes used",
    ":TRACe:DATA?": "the buffered readings", ":CALCulate[1]:DATA?": "the math result",
    ":FORMat:ELEMents": "reply elements READing, CHANnel, UNITs",
}

NOT_IMPLEMENTED: dict[str, str] = {
    ":ROUTe": "scanner card commands: no scanner card in the simulated station",
    ":CALCulate2": "buffer statistics (MIN/MAX/MEAN/SDEV) not modelled",
    ":CALCulate3": "limit tests not modelled",
    ":FORMat[:DATA] SREal|DREal": "binary reading formats; ASCii only",
    "[:SENSe[1]]:TEMPerature:RJUNction": "thermocouple reference junction: the simulated "
                                          "thermocouple reads 23 C",
}


def all_headers() -> dict[str, str]:
    """Every implemented header (manual notation, queries with ``?``) -> description."""
    out: dict[str, str] = {}
    for key, path in FUNCTIONS.items():
        out[f":CONFigure:{path}"] = f"one-shot {key} measurement setup"
        out[f":MEASure:{path}?"] = f"configure for {key} and read"
        for node, spec in FUNCTION_SETTINGS[key].items():
            head = f"[:SENSe[1]]:{path}:{node}"
            out[head] = f"{key} {node.split(':')[0].split('[')[0].lower()} ({spec[0]})"
            out[head + "?"] = f"read the {key} setting back"
        if "REFerence" in FUNCTION_SETTINGS[key]:
            out[f"[:SENSe[1]]:{path}:REFerence:ACQuire"] = f"{key} reference := this reading"
    for head, spec in SETTINGS.items():
        out[head] = f"stored setting ({spec[0]})"
        out[head + "?"] = "read it back"
    out[":FORMat:ELEMents?"] = "read the reply elements"
    out.update(ACTIONS)
    return out


COMMANDS = all_headers()
TREE = CommandTree(list(COMMANDS))
#: canonical key -> spec of every stored setting; (function, node canonical) lookups
SPECS: dict[str, tuple] = {}
FUNCTION_KEYS: dict[tuple[str, str], str] = {}  # (function, short setting path) -> canonical
FUNCTION_TREE = CommandTree([])  # the :FUNC parameter's own vocabulary
CANONICAL_FUNCTION: dict[str, str] = {}  # canonical node path of a function -> its key
for _f, _path in FUNCTIONS.items():
    CANONICAL_FUNCTION[FUNCTION_TREE.add(_path)] = _f
    for _node, _spec in FUNCTION_SETTINGS[_f].items():
        _key = TREE.add(f"[:SENSe[1]]:{_path}:{_node}")
        SPECS[_key] = _spec
        FUNCTION_KEYS[(_f, minimal_form(_node))] = _key
for _head, _spec in SETTINGS.items():
    SPECS[TREE.add(_head)] = _spec
QUERIES = {TREE.add(h) for h in COMMANDS if h.endswith("?")}
SETTABLE = {TREE.add(h) for h in COMMANDS if not h.endswith("?")}


@functools.lru_cache(maxsize=512)
def normalize(header: str) -> str:
    """Canonical key of a header: ':sense:voltage:nplc' -> 'SENS:VOLT:DC:NPLC'."""
    return TREE.resolve(header.strip().rstrip("?"))[0]


def function_of(word: str) -> str:
    """A :FUNC parameter ('VOLT:DC', "RESistance", 'volt') -> function key; -224 if none."""
    text = word.strip().strip("'\"")
    try:
        key = FUNCTION_TREE.resolve(text)[0] if text else ""
    except ScpiError:
        raise ScpiError(-224) from None
    function = CANONICAL_FUNCTION.get(key)
    if function is None:
        raise ScpiError(-224)
    return function
