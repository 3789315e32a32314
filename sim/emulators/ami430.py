"""AMI 430 emulator on the shared magnet: the remote command set of the 430 manual with its
SCPI grammar (long and short forms in any case, ``;`` chaining, a leading ``:``), field and
ramp-rate units (kG or T, per second or per minute) applied to every value, ramp-rate
segments (the ramp runs at the slowest segment rate on its way), ramp/pause/zero, state
(quench = 7), quench flag, count and reset, coil constant and current limit, persistent
switch (installed, heater, heating/cooling times, PERS?), and the SCPI error queue.

Errors (``SYST:ERR?``, oldest first, ``0,"No error"`` when empty; the queue holds 10)
[U: codes from the manual's error list as recalled, check before relying on the numbers]:
-101 unrecognized command, -102 invalid argument, -104 missing parameter, -105 value out
of range, -200 not allowed in the present state. A query that fails gets no reply.
"""

from __future__ import annotations

import math
from typing import ClassVar

from pcsdaq.sim.emulators.ami430_commands import COMMANDS
from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.emulators.scpi_tree import build_table, match
from pcsdaq.sim.magnet import PAUSED, QUENCH, RAMPING, ZEROING

AT_ZERO = 8  #: STATE? after a ZERO has brought the current to zero
MANUAL_UP, MANUAL_DOWN = 4, 5  #: STATE? while INCR/DECR ramps


def finite(text: str) -> float:
    """A finite number from a parameter (ValueError for nan/inf, as for text)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


class AMIError(Exception):
    """An error-queue entry: ``code``, ``text``."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


class AMI430Emulator(Emulator):
    """AMI 430 over its IP interface; greeting on connect; CR LF replies."""

    name = "ami430"
    command_terminators = ("\r\n", "\n", "\r")
    reply_terminator = "\r\n"
    greeting = b"American Magnetics Model 430 IP Interface\r\nHello.\r\n"
    greeting_delay_s = 0.25  #: after the client's device clear (QCoDeS clears at connect)
    idn = "AMERICAN MAGNETICS INC.,MODEL 430,SIM0430,2.0"
    INDUCTANCE_H = 5.0  #: magnet inductance (INDuctance?), H

    COMMANDS: ClassVar[dict[str, str]] = COMMANDS
    NOT_IMPLEMENTED: ClassVar[dict[str, str]] = {
        "TRIGger": "the trigger/data logging functions are not simulated",
        "RAMPDown": "external rampdown is not simulated",
    }
    _TABLE: ClassVar[dict[str, str]] = build_table(COMMANDS)

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.errors: list[str] = []
        self.reset()

    def reset(self) -> None:
        """Power-up settings (``*RST``); the magnet's field stays where it is, paused."""
        self.segments: list[tuple[float, float]] = [(0.1, 7.0)]  #: (rate T/min, upper |B| T)
        self.current_limit = 80.0  #: A
        self.voltage_limit = 2.0  #: V
        self.stability = 0.0
        self.switch_heater = False
        self.switch_installed = 1
        self.switch_current_mA = 20.0
        self.switch_psrr = 10.0  #: A/s
        self.heat_time_s = 20.0  #: persistent switch heating time, s (5-120)
        self.cool_time_s = 60.0  #: persistent switch cooling time, s (5-3600)
        self._switch_changed_at = -1e30
        self.field_units = 1
        self.rate_units = 1
        self.quench_detect = 1
        self.quench_count = 0
        self._quench_seen = False
        self.remote = True
        self._zeroing = False
        self._manual = 0  #: +1 during INCR, -1 during DECR
        self.esr = self.ese = self.sre = 0

    # --- grammar ----------------------------------------------------------------------
    def handle(self, message: str) -> str | None:
        """One line: ``;``-separated commands; the queries' replies joined by ``;``."""
        replies = [r for part in message.split(";") if (r := self._one(part.strip())) is not None]
        return ";".join(replies) if replies else None

    def _one(self, text: str) -> str | None:
        if not text:
            return None
        head, _, rest = text.replace("\t", " ").partition(" ")
        header, numbers = match(self._TABLE, head)
        try:
            if header is None:
                raise AMIError(-101, "Unrecognized command")
            args = numbers + [a.strip() for a in rest.split(",") if a.strip()]
            name = "".join(c for c in header if c.isupper() or c in ":#*?")
            name = name.replace("*", "STAR_").replace("#", "N").rstrip("?").replace(":", "_")
            method = getattr(self, ("_q_" if header.endswith("?") else "_c_") + name.lower())
            return method(args)
        except AMIError as err:
            self._error(err.code, err.text)
        except IndexError:
            self._error(-104, "Missing parameter")
        except (ValueError, OverflowError):
            self._error(-102, "Invalid argument")
        return None

    def _error(self, code: int, text: str) -> None:
        if len(self.errors) < 10:
            self.errors.append(f'{code},"{text}"')
        self.esr |= 32 if code > -200 else 16

    @staticmethod
    def _num(args: list[str], i: int, lo: float, hi: float) -> float:
        value = float(args[i])
        if not lo <= value <= hi:
            raise AMIError(-105, "Value out of range")
        return value

    # --- units: the magnet keeps T and T/min -----------------------------------------
    @property
    def _f(self) -> float:
        """Field unit per T (10 kG = 1 T)."""
        return 10.0 if self.field_units == 0 else 1.0

    @property
    def _per(self) -> float:
        """Rate unit per (1/min)."""
        return 1.0 / 60.0 if self.rate_units == 0 else 1.0

    # --- common and system commands ------------------------------------------------------
    def _q_star_idn(self, args): return self.idn
    def _c_star_rst(self, args): self.lab.magnet.pause(); self.reset()  # noqa: E702
    def _c_star_cls(self, args): self.errors.clear(); self.esr = 0  # noqa: E702
    def _q_star_esr(self, args):
        value, self.esr = self.esr, 0
        return str(value)
    def _c_star_ese(self, args): self.ese = int(self._num(args, 0, 0, 255))
    def _q_star_ese(self, args): return str(self.ese)
    def _c_star_sre(self, args): self.sre = int(self._num(args, 0, 0, 255))
    def _q_star_sre(self, args): return str(self.sre)
    def _q_star_stb(self, args):
        return str((4 if self.errors else 0) | (32 if self.esr & self.ese else 0))
    def _c_star_opc(self, args): self.esr |= 1
    def _q_star_opc(self, args): return "1"
    def _q_star_tst(self, args): return "0"
    def _q_syst_err(self, args): return self.errors.pop(0) if self.errors else '0,"No error"'
    def _c_syst_loc(self, args): self.remote = False
    def _c_syst_rem(self, args): self.remote = True

    # --- readings -------------------------------------------------------------------------
    def _q_state(self, args) -> str:
        """STATE?: 9 heating switch, 10 cooling switch, else the magnet's state (advanced)."""
        self._note_quench()
        self.lab.magnet.field()  # advance the ramp first
        if self.lab.magnet.state == QUENCH:
            return str(QUENCH)
        settling = self._switch_settling()
        if settling is not None:
            return "9" if settling == "heating" else "10"
        if self._zeroing and self.lab.magnet.state == PAUSED and self.lab.magnet.field() == 0.0:
            return str(AT_ZERO)
        if self._manual and self.lab.magnet.state == RAMPING:
            return str(MANUAL_UP if self._manual > 0 else MANUAL_DOWN)
        return str(self.lab.magnet.state)

    def _q_field_mag(self, args): return f"{self.lab.magnet.field() * self._f:.8f}"
    def _q_curr_mag(self, args): return f"{self.lab.magnet.current():.8f}"
    def _q_curr_supp(self, args): return f"{self.lab.magnet.current():.8f}"

    def _q_volt_supp(self, args) -> str:
        m = self.lab.magnet
        m.field()
        ramping = m.state in (RAMPING, ZEROING)
        return f"{self.INDUCTANCE_H * m.rate / 60.0 / m.coil if ramping else 0.0:.6f}"

    _q_volt_mag = _q_volt_supp
    def _q_ind(self, args): return f"{self.INDUCTANCE_H:.2f}"

    # --- ramp configuration ------------------------------------------------------------
    def _c_conf_field_targ(self, args) -> None:
        target = finite(args[0]) / self._f
        if abs(target) / self.lab.magnet.coil > self.current_limit:
            raise AMIError(-105, "Target exceeds the current limit")
        self.lab.magnet.target = target

    def _q_field_targ(self, args): return f"{self.lab.magnet.target * self._f:.8f}"

    def _c_conf_curr_targ(self, args) -> None:
        amps = finite(args[0])
        if abs(amps) > self.current_limit:
            raise AMIError(-105, "Target exceeds the current limit")
        self.lab.magnet.target = amps * self.lab.magnet.coil

    def _q_curr_targ(self, args): return f"{self.lab.magnet.target / self.lab.magnet.coil:.8f}"
    def _c_conf_field_units(self, args): self.field_units = int(self._num(args, 0, 0, 1))
    def _q_field_units(self, args): return str(self.field_units)
    def _c_conf_ramp_rate_units(self, args): self.rate_units = int(self._num(args, 0, 0, 1))
    def _q_ramp_rate_units(self, args): return str(self.rate_units)

    def _c_conf_ramp_rate_seg(self, args) -> None:
        n = int(self._num(args, 0, 1, 10))
        self.segments = (self.segments + [self.segments[-1]] * n)[:n]

    def _q_ramp_rate_seg(self, args): return str(len(self.segments))

    def _segment(self, args) -> int:
        seg = int(finite(args[0]))
        if not 1 <= seg <= len(self.segments):
            raise AMIError(-105, "Value out of range")
        return seg - 1

    def _c_conf_ramp_rate_field(self, args) -> None:
        seg = self._segment(args)
        rate, upper = finite(args[1]), finite(args[2])
        if rate <= 0 or upper < 0:  # an upper bound of 0: up to the current limit [U]
            raise AMIError(-105, "Value out of range")
        self.segments[seg] = (rate / self._f / self._per, upper / self._f)

    def _q_ramp_rate_field_n(self, args) -> str:
        rate, upper = self.segments[self._segment(args)]
        return f"{rate * self._f * self._per:.4f},{upper * self._f:.4f}"

    def _c_conf_ramp_rate_curr(self, args) -> None:
        coil = self.lab.magnet.coil
        seg = self._segment(args)
        rate, upper = finite(args[1]), finite(args[2])
        if rate <= 0 or upper < 0:  # an upper bound of 0: up to the current limit [U]
            raise AMIError(-105, "Value out of range")
        self.segments[seg] = (rate * coil / self._per, upper * coil)

    def _q_ramp_rate_curr_n(self, args) -> str:
        rate, upper = self.segments[self._segment(args)]
        coil = self.lab.magnet.coil
        return f"{rate / coil * self._per:.4f},{upper / coil:.4f}"

    def _c_conf_coil(self, args) -> None:
        coil = finite(args[0]) / self._f
        if coil <= 0:
            raise AMIError(-105, "Value out of range")
        self.lab.magnet.field()
        self.lab.magnet.coil = coil

    def _q_coil(self, args): return f"{self.lab.magnet.coil * self._f:.6f}"
    def _c_conf_curr_lim(self, args): self.current_limit = self._num(args, 0, 0, 1000)
    def _q_curr_lim(self, args): return f"{self.current_limit:.4f}"
    def _c_conf_volt_lim(self, args): self.voltage_limit = self._num(args, 0, 0, 20)
    def _q_volt_lim(self, args): return f"{self.voltage_limit:.3f}"
    def _c_conf_stab(self, args): self.stability = self._num(args, 0, 0, 100)
    def _q_stab(self, args): return f"{self.stability:.1f}"

    # --- ramping ----------------------------------------------------------------------
    def _c_ramp(self, args) -> None:
        m = self.lab.magnet
        if self._switch_settling():
            raise AMIError(-200, "Persistent switch heating or cooling")
        if m.quenched:
            raise AMIError(-200, "Quench: reset before ramping")
        # the supply ramps each field range at its segment's rate; the slowest on the way
        lo, hi = sorted((abs(m.field()), abs(m.target)))
        rates, below = [], 0.0
        for r, upper in self.segments:  # segment i covers (upper of i-1, upper]
            if upper >= lo and below < hi:
                rates.append(r)
            below = upper
        m.rate = min(rates) if rates else self.segments[-1][0]
        self._zeroing = False
        self._manual = 0
        m.ramp()

    def _c_pause(self, args):
        self._zeroing = False
        self._manual = 0
        self.lab.magnet.pause()

    def _c_incr(self, args): self._manual_ramp(+1)
    def _c_decr(self, args): self._manual_ramp(-1)

    def _manual_ramp(self, sign: int) -> None:
        """INCR/DECR: ramp towards the current limit of that sign (the target stays)."""
        m = self.lab.magnet
        if self._switch_settling() or m.quenched:
            raise AMIError(-200, "Not allowed in the present state")
        target = m.target
        m.target = sign * self.current_limit * m.coil
        self._c_ramp([])
        m.target, self._manual = target, sign

    def _c_zero(self, args):
        self._zeroing = True  # STATE? 8 (at zero current) once there
        self._manual = 0
        self.lab.magnet.zero()

    # --- persistent switch ------------------------------------------------------------
    def _c_ps(self, args) -> None:
        on = int(self._num(args, 0, 0, 1))
        if not self.switch_installed:
            raise AMIError(-200, "No persistent switch installed")
        if bool(on) != self.switch_heater:
            self.switch_heater = bool(on)
            self._switch_changed_at = self.lab.clock.now()

    def _q_ps(self, args): return str(int(self.switch_heater))
    def _c_conf_ps(self, args): self.switch_installed = int(self._num(args, 0, 0, 1))
    def _q_ps_inst(self, args): return str(self.switch_installed)
    def _c_conf_ps_curr(self, args): self.switch_current_mA = self._num(args, 0, 0, 125)
    def _q_ps_curr(self, args): return f"{self.switch_current_mA:.1f}"
    def _c_conf_ps_htime(self, args): self.heat_time_s = self._num(args, 0, 5, 120)
    def _q_ps_htime(self, args): return f"{self.heat_time_s:g}"
    def _c_conf_ps_ctime(self, args): self.cool_time_s = self._num(args, 0, 5, 3600)
    def _q_ps_ctime(self, args): return f"{self.cool_time_s:g}"
    def _c_conf_ps_psrr(self, args): self.switch_psrr = self._num(args, 0, 0.1, 100)
    def _q_ps_psrr(self, args): return f"{self.switch_psrr:.3f}"

    def _q_pers(self, args) -> str:
        persistent = (self.switch_installed and not self.switch_heater
                      and self._switch_settling() is None
                      and abs(self.lab.magnet.field()) > 1e-9)
        return str(int(bool(persistent)))

    # --- quench -----------------------------------------------------------------------
    def _note_quench(self) -> None:
        m = self.lab.magnet
        if m.quenched and not self._quench_seen:
            self.quench_count += 1
        self._quench_seen = m.quenched

    def _c_qu(self, args) -> None:
        m = self.lab.magnet
        if int(self._num(args, 0, 0, 1)) == 0:
            m.quenched = False
            if m.state == QUENCH:
                m.pause()
        else:
            m.quench()
        self._note_quench()

    def _q_qu(self, args):
        self._note_quench()
        return str(int(self.lab.magnet.quenched))

    def _q_qu_count(self, args):
        self._note_quench()
        return str(self.quench_count)

    def _c_conf_qu_det(self, args): self.quench_detect = int(self._num(args, 0, 0, 1))
    def _q_qu_det(self, args): return str(self.quench_detect)

    def _switch_settling(self) -> str | None:
        """'heating'/'cooling' while the persistent switch changes state, else None."""
        elapsed = self.lab.clock.now() - self._switch_changed_at
        if self.switch_heater and elapsed < self.heat_time_s:
            return "heating"
        if not self.switch_heater and elapsed < self.cool_time_s:
            return "cooling"
        return None

    def _state(self) -> str:
        """STATE? reply (kept for callers of the old name)."""
        return self._q_state([])
