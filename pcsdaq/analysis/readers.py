"""Reading spectra and R(T) curves as labs write them, with one-line errors.

Text tables: header or not, ``#``/``%`` comment lines, comma / tab / space / semicolon
separated (a semicolon file may use decimal commas), CRLF or LF, a UTF-8 byte-order mark;
UTF-16 and binary files are refused with a line saying so. Column names are matched without
case and without a unit suffix (``R_Ohm``, ``R_ohm`` and ``R [Ohm]`` are the same column);
a unit in the header (``V [mV]``, ``bias_mV``) is used. pcsdaq HDF5 run files are read
segment by segment (:func:`read_spectrum` with ``segment=``).

Every error is an :class:`AnalysisInputError` naming the file, the line (when there is one)
and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pcsdaq.analysis.io import AnalysisInputError

#: a recorded bias beyond this (V) across a point contact means the column is in mV
MAX_PLAUSIBLE_BIAS_V = 0.5
BIAS_UNITS = ("auto", "V", "mV")
QUANTITIES = ("auto", "dIdV", "dVdI")
_BIAS_NAMES = ("bias_v", "v_dc_v", "bias", "v", "voltage", "vbias", "v_dc", "bias_mv", "v_mv",
               "e", "energy", "vdc", "u")
_SIGNAL_NAMES = ("didv", "didv_s", "di/dv", "g", "g/gn", "g/g_n", "g/g0", "gn", "g_n",
                 "conductance", "normalized conductance", "didv_norm", "normalized",
                 "normalised", "dvdi", "dvdi_ohm", "dv/di", "r", "resistance", "y", "signal")
_RESISTANCE_WORDS = ("dvdi", "resistance", "ohm")


@dataclass
class Table:
    """Numbers of a text table: ``header`` (names as written, or None), ``units`` (per
    column, from ``name [unit]`` headers, else ""), ``data`` (rows x columns, float) and
    ``line_numbers`` (1-based line of each row in the file)."""

    path: Path
    header: list[str] | None
    units: list[str]
    data: np.ndarray
    line_numbers: np.ndarray
    delimiter: str


@dataclass
class Spectrum:
    """A spectrum as read: bias in V (ascending), conductance ``g`` (dI/dV in the file's
    units, or 1/(dV/dI)), and what the reader decided (``bias_unit`` of the file, with the
    reason, the columns used, notes). ``temperature_K`` / ``field_T`` when the file says."""

    bias_V: np.ndarray
    g: np.ndarray
    source: str
    bias_unit: str
    bias_unit_reason: str
    quantity: str
    columns: tuple[str, str]
    temperature_K: float | None = None
    field_T: float | None = None
    resistance_ohm: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def looks_normalised(self) -> bool:
        """True when the outer 15 % of the bias range sits within 25 % of 1 (G/G_N)."""
        outer = np.abs(self.bias_V) >= np.quantile(np.abs(self.bias_V), 0.85)
        return bool(0.75 <= float(np.median(self.g[outer])) <= 1.25)


def _canonical(name: str) -> tuple[str, str]:
    """(lower-case name without unit, unit) of a header cell: 'R [Ohm]' -> ('r', 'Ohm')."""
    name = name.strip().strip('"').strip("'").strip()
    unit = ""
    m = re.match(r"^(.*?)\s*[\[(]\s*([^\])]*)\s*[\])]\s*$", name)
    if m:
        name, unit = m.group(1), m.group(2)
    return name.strip().lower(), unit.strip()


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (raw[:200].count(b"\x00") > 10 and
                                                     raw[:200].count(b"\x00") * 3 > len(raw[:200])):
        raise AnalysisInputError(f"{path}: file is UTF-16 text (or binary); expected UTF-8 or "
                                 "ASCII text: save it again as UTF-8 / CSV")
    if b"\x00" in raw:
        raise AnalysisInputError(f"{path}: binary file (NUL bytes); expected a text table")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = raw.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise AnalysisInputError(f"{path}: not text ({exc.reason})") from None
        if sum(not (c.isprintable() or c.isspace()) for c in text) > 0.01 * len(text) + 2:
            raise AnalysisInputError(f"{path}: binary file (byte {exc.start} is not text); "
                                     "expected a text table") from None
        return text


def _split(line: str, delimiter: str) -> list[str]:
    if delimiter == " ":
        return line.split()
    return [c.strip() for c in line.split(delimiter)]


def _to_float(cell: str, decimal_comma: bool) -> float:
    cell = cell.strip().strip('"')
    if decimal_comma:
        cell = cell.replace(",", ".")
    return float(cell)


def _is_number(cell: str, decimal_comma: bool = False) -> bool:
    try:
        _to_float(cell, decimal_comma)
        return True
    except ValueError:
        return False


def _guess_delimiter(lines: list[str]) -> str:
    """The separator found on most of the first lines (tab, semicolon, comma), else spaces."""
    sample = lines[:20]
    best, best_frac = " ", 0.0
    for d in ("\t", ";", ","):
        frac = sum(d in ln for ln in sample) / len(sample)
        if frac > best_frac + 1e-9:
            best, best_frac = d, frac
    return best if best_frac >= 0.5 else " "


def read_table(path: str | Path) -> Table:
    """A text table of numbers (see module doc); raises AnalysisInputError naming the line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AnalysisInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    text = _decode(path, raw)
    numbered = [(i, ln.strip()) for i, ln in enumerate(text.splitlines(), start=1)]
    numbered = [(i, ln) for i, ln in numbered if ln and not ln.startswith(("#", "%", "//"))]
    if not numbered:
        raise AnalysisInputError(f"{path}: empty file (expected a table of numbers)")
    delimiter = _guess_delimiter([ln for _, ln in numbered])
    decimal_comma = delimiter == ";" and any("," in ln for _, ln in numbered[1:6])
    first = _split(numbered[0][1], delimiter)
    header = None
    units = [""] * len(first)
    if not all(_is_number(c, decimal_comma) for c in first if c != ""):
        header = [c.strip().strip('"') for c in first]
        units = [_canonical(c)[1] for c in header]
        numbered = numbered[1:]
        if numbered:
            second = _split(numbered[0][1], delimiter)
            if second and not any(_is_number(c, decimal_comma) for c in second if c):
                # a units row under the names ("V,G" then "mV,S")
                units = [c.strip().strip("[]()") for c in second] + [""] * len(header)
                units = units[:len(header)]
                numbered = numbered[1:]
    if not numbered:
        raise AnalysisInputError(f"{path}: no data rows under the header")
    width = len(header) if header else len(first)
    rows, lines = [], []
    for i, ln in numbered:
        cells = _split(ln, delimiter)
        if delimiter != " " and cells and cells[-1] == "":
            cells = cells[:-1]  # trailing separator
        if len(cells) < width:
            raise AnalysisInputError(f"{path}: line {i}: {len(cells)} column(s), expected "
                                     f"{width} separated by {delimiter!r}")
        try:
            rows.append([_to_float(c, decimal_comma) for c in cells[:width]])
        except ValueError:
            bad = next(c for c in cells[:width] if not _is_number(c, decimal_comma))
            raise AnalysisInputError(f"{path}: line {i}: {bad[:40]!r} is not a number (expected "
                                     f"{width} numbers separated by {delimiter!r})") from None
        lines.append(i)
    return Table(path, header, units, np.array(rows, dtype=float), np.array(lines), delimiter)


def _find(table: Table, wanted: str | int | None, candidates: tuple[str, ...],
          role: str, exclude: int | None = None) -> int:
    """Column index for ``wanted`` (index, or name) or the first candidate name present."""
    n = table.data.shape[1]
    names = [_canonical(h)[0] for h in table.header] if table.header else None
    if wanted is not None:
        if isinstance(wanted, int) or str(wanted).lstrip("-").isdigit():
            j = int(wanted)
            if not 0 <= j < n:
                raise AnalysisInputError(f"{table.path}: {role} column {j} does not exist "
                                         f"(columns 0..{n - 1})")
            return j
        key = _canonical(str(wanted))[0]
        if names and key in names:
            return names.index(key)
        raise AnalysisInputError(f"{table.path}: no column {wanted!r} for the {role}; found: "
                                 f"{', '.join(table.header or [])}")
    if names:
        for c in candidates:
            for j, nm in enumerate(names):
                if nm == c and j != exclude:
                    return j
    return -1


def read_columns(path: str | Path, names: tuple[str, ...],
                 aliases: dict[str, tuple[str, ...]] | None = None) -> dict[str, np.ndarray]:
    """The named columns of a text table as float arrays (matched without case or unit;
    ``aliases`` may give other accepted names per column). Raises AnalysisInputError."""
    table = read_table(path)
    if table.header is None:
        raise AnalysisInputError(f"{path}: no header line; expected columns "
                                 f"{', '.join(names)}")
    canon = [_canonical(h)[0] for h in table.header]
    out = {}
    missing = []
    for name in names:
        options = (name, *((aliases or {}).get(name, ())))
        j = next((canon.index(_canonical(o)[0]) for o in options
                  if _canonical(o)[0] in canon), None)
        if j is None:
            missing.append(name)
            continue
        col = table.data[:, j]
        bad = np.nonzero(~np.isfinite(col))[0]
        if bad.size:
            raise AnalysisInputError(f"{path}: line {table.line_numbers[bad[0]]}, column {name} "
                                     f"is {col[bad[0]]} (NaN/inf); expected a finite number")
        out[name] = col
    if missing:
        raise AnalysisInputError(f"{path}: missing column {', '.join(missing)}; found: "
                                 f"{', '.join(table.header)} (needs {', '.join(names)})")
    return out


def _bias_unit(table: Table, j: int, values: np.ndarray, requested: str) -> tuple[str, str]:
    if requested not in BIAS_UNITS:
        raise AnalysisInputError(f"--bias-unit {requested!r}; allowed: {', '.join(BIAS_UNITS)}")
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    if requested != "auto":
        if requested == "V" and peak > MAX_PLAUSIBLE_BIAS_V:
            raise AnalysisInputError(f"{table.path}: |bias| reaches {peak:g} V, not plausible "
                                     "across a point contact; that looks like mV "
                                     "(--bias-unit mV)")
        return requested, "given (--bias-unit)"
    header = table.header or [""] * len(table.units)
    unit = table.units[j].strip().lower() if table.header else ""
    name = _canonical(header[j])[0] if table.header else ""
    if unit in ("mv", "v"):
        return ("mV" if unit == "mv" else "V"), f"header unit [{table.units[j]}]"
    if name.endswith("_mv") or name == "mv":
        return "mV", f"column name {header[j]!r}"
    if name.endswith("_v") and peak <= MAX_PLAUSIBLE_BIAS_V:
        return "V", f"column name {header[j]!r}"
    if name.endswith("_v"):
        raise AnalysisInputError(f"{table.path}: |{header[j]}| reaches {peak:g}; that "
                                 "looks like mV, not V (--bias-unit mV, or divide by 1000)")
    if peak > MAX_PLAUSIBLE_BIAS_V:
        return "mV", (f"auto: max |bias| = {peak:g} > {MAX_PLAUSIBLE_BIAS_V} (V would be "
                      "implausible)")
    return "V", f"auto: max |bias| = {peak:g} <= {MAX_PLAUSIBLE_BIAS_V}"


def read_spectrum(path: str | Path, *, bias_unit: str = "auto", bias_column=None,
                  signal_column=None, quantity: str = "auto",
                  segment: str | int | None = None) -> Spectrum:
    """A dI/dV (or dV/dI) spectrum from a text table or a pcsdaq HDF5 run (see module doc).

    ``bias_unit`` auto|V|mV; ``bias_column`` / ``signal_column`` a name or 0-based index
    (default: by name, else the first two columns, skipping a leading row index);
    ``quantity`` auto|dIdV|dVdI (auto: from the column name); ``segment`` an HDF5 segment
    name or index (default the first spectrum). A temperature or field column (as
    ``pcsdaq export`` writes) sets ``temperature_K`` / ``field_T``. Returns a :class:`Spectrum`
    sorted by bias;
    rows with NaN are dropped (said in ``notes``)."""
    path = Path(path)
    if quantity not in QUANTITIES:
        raise AnalysisInputError(f"quantity {quantity!r}; allowed: {', '.join(QUANTITIES)}")
    try:
        head = path.read_bytes()[:8]
    except OSError as exc:
        raise AnalysisInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return _read_hdf5_spectrum(path, segment)
    table = read_table(path)
    n = table.data.shape[1]
    if n < 2:
        raise AnalysisInputError(f"{path}: {n} column; expected two (bias, conductance)")
    jb = _find(table, bias_column, _BIAS_NAMES, "bias")
    js = _find(table, signal_column, _SIGNAL_NAMES, "conductance", exclude=jb)
    notes = []
    if jb < 0 or js < 0:
        if table.header and bias_column is None and signal_column is None and n > 2 and \
                (jb < 0 and js < 0):
            raise AnalysisInputError(f"{path}: cannot tell bias and conductance columns apart "
                                     f"in {', '.join(table.header)}; give --columns BIAS,SIGNAL")
        first = 0
        col0 = table.data[:, 0]
        if n >= 3 and np.allclose(col0, np.arange(len(col0)) + col0[0]) and col0[0] in (0, 1):
            first = 1  # a leading row index
            notes.append("column 0 is a row index: skipped")
        free = [j for j in range(first, n) if j not in (jb, js)]
        if jb < 0:
            jb = free.pop(0)
        if js < 0:
            js = free.pop(0) if free else -1
        if js < 0:
            raise AnalysisInputError(f"{path}: only one column besides the bias")
    header = table.header or [f"column {j}" for j in range(n)]
    bias, sig = table.data[:, jb], table.data[:, js]
    ok = np.isfinite(bias) & np.isfinite(sig)
    if not ok.all():
        first_bad = int(table.line_numbers[np.nonzero(~ok)[0][0]])
        if ok.sum() < 8:
            raise AnalysisInputError(f"{path}: line {first_bad}: NaN/inf; only {int(ok.sum())} "
                                     "finite rows (need >= 8)")
        notes.append(f"{int((~ok).sum())} row(s) with NaN/inf dropped (first: line {first_bad})")
        bias, sig = bias[ok], sig[ok]
    unit, reason = _bias_unit(table, jb, bias, bias_unit)
    bias_V = bias * (1e-3 if unit == "mV" else 1.0)
    q = quantity
    if q == "auto":
        sig_name = header[js].lower()
        q = "dVdI" if (any(w in sig_name for w in _RESISTANCE_WORDS) or
                       _canonical(header[js])[0] in ("r", "dv/di")) else "dIdV"
    if q == "dVdI":
        if np.any(sig <= 0):
            raise AnalysisInputError(f"{path}: dV/dI column {header[js]!r} has values <= 0")
        sig = 1.0 / sig
        notes.append(f"{header[js]} read as dV/dI: conductance = 1/dV/dI")
    order = np.argsort(bias_V, kind="stable")
    if not np.all(np.diff(bias_V) >= 0):
        notes.append("bias sorted ascending")
    extra = {}
    if table.header:  # conditions recorded as columns (pcsdaq export writes them)
        names = [_canonical(h)[0] for h in table.header]
        for key, options in (("temperature_K", ("temperature_k", "t_k", "temperature")),
                             ("field_T", ("field_t", "b_t", "field"))):
            j = next((names.index(o) for o in options if o in names), None)
            if j is not None and j not in (jb, js):
                extra[key] = _mean(table.data[:, j])
    return Spectrum(bias_V[order], sig[order], str(path), unit, reason, q,
                    (header[jb], header[js]), notes=notes, **extra)


def _read_hdf5_spectrum(path: Path, segment) -> Spectrum:
    from pcsdaq.storage import read_run
    from pcsdaq.storage.reader import RunFileError

    try:
        run = read_run(path)
    except (RunFileError, OSError, RuntimeError, KeyError, ValueError) as exc:
        raise AnalysisInputError(f"{path}: cannot read the run ({exc})") from exc
    spectra = [s for s in run.segments if "dIdV_S" in s.columns and "V_dc_V" in s.columns]
    if not spectra:
        raise AnalysisInputError(f"{path}: no spectrum segment (columns V_dc_V, dIdV_S)")
    if segment is None:
        seg = spectra[0]
    elif isinstance(segment, int) or str(segment).isdigit():
        k = int(segment)
        if not 0 <= k < len(spectra):
            raise AnalysisInputError(f"{path}: spectrum segment {k} does not exist "
                                     f"(0..{len(spectra) - 1})")
        seg = spectra[k]
    else:
        match = [s for s in spectra if s.name == segment]
        if not match:
            raise AnalysisInputError(f"{path}: no spectrum segment {segment!r}; found: "
                                     f"{', '.join(s.name for s in spectra)}")
        seg = match[0]
    return spectrum_from_segment(seg, str(path))


def _mean(values) -> float | None:
    if values is None:
        return None
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else None


def spectrum_from_segment(seg, source: str = "") -> Spectrum:
    """A :class:`Spectrum` from a run segment (pcsdaq.storage Segment with V_dc_V, dIdV_S)."""
    cols = seg.columns
    v, g = np.asarray(cols["V_dc_V"], float), np.asarray(cols["dIdV_S"], float)
    ok = np.isfinite(v) & np.isfinite(g)
    notes = [] if ok.all() else [f"{int((~ok).sum())} row(s) with NaN dropped"]
    order = np.argsort(v[ok], kind="stable")
    r = None
    if "dVdI_Ohm" in cols:
        d = np.asarray(cols["dVdI_Ohm"], float)[ok][order]
        if d.size >= 8:
            outer = np.abs(v[ok][order]) >= np.quantile(np.abs(v[ok]), 0.85)
            r = _mean(d[outer])
    t = _mean(cols.get("temperature_K"))
    return Spectrum(v[ok][order], g[ok][order], f"{source}:{seg.name}" if source else seg.name,
                    "V", "pcsdaq run file", "dIdV", ("V_dc_V", "dIdV_S"), temperature_K=t,
                    field_T=_mean(cols.get("field_T")), resistance_ohm=r, notes=notes)

