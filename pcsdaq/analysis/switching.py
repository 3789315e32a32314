"""The critical current at a dip, from the measured DC current and voltage of a sweep.

Definition (pcsdaq.physics.contact, the simulator's and PHYSICS.md's): the contact region
switches to the normal state at I_c, where half of its Maxwell voltage I R_M has appeared,
V(I) = V_BTK(I) + I R_M s(|I| - I_c) with s(0) = 1/2; the dip in dI/dV sits there.

A current-biased sweep samples the current evenly, so the bias jumps across the switch and
one or two samples see the dip: neither the current at the dip's sample nor the integral of
the sampled dI/dV up to it (the trapezoid bridges the jump with the dip's own low
conductance) is I_c to better than a current step. Here the voltage itself says how much of
the jump each sample near the dip has made: with the branches below and above the jump
(straight lines through the samples on each side, outside the jump, over as much current as
the jump spans, two samples at least),
s_k = (V_k - V_below(I_k)) / (V_above(I_k) - V_below(I_k)), and I_c is where s crosses 1/2
(linear between samples). With a sweep that resolves the step this is its midpoint; with
one sample in the step, that sample's s places I_c between its neighbours. A switch whose
dip the sampled conductance steps over is found in V(I) itself (:func:`find_switches_mV`).
Units: A, V (mV for bias positions, as ``dips_mV``).
"""

from __future__ import annotations

import math

import numpy as np


def _jump(i: np.ndarray, v: np.ndarray, near: int) -> tuple[int, int] | None:
    """(first, last) sample index bounding the steep part of V(I) around sample ``near``:
    the contiguous intervals whose chord dV/dI is above each side's branch (its flattest
    chord within a factor 1.5 in current) by more than a tenth of the steepest chord's
    excess. None when the steepest chord is not well above both branches."""
    chord = np.diff(v) / np.diff(i)
    if chord.size < 3:
        return None
    lo_j, hi_j = max(near - 2, 0), min(near + 1, chord.size - 1)
    j = lo_j + int(np.argmax(chord[lo_j:hi_j + 1]))
    mid = 0.5 * (i[:-1] + i[1:])
    up = np.nonzero(mid > mid[j])[0]
    down = np.nonzero(mid < mid[j])[0]
    up_near = up[(mid[up] <= 1.5 * mid[j]) | (np.arange(up.size) < 3)]
    down_near = down[(mid[down] >= mid[j] / 1.5) | (np.arange(down.size) >= down.size - 3)]
    if not up_near.size or not down_near.size:
        return None
    base_up, base_down = float(chord[up_near].min()), float(chord[down_near].min())
    if not chord[j] > 1.5 * max(base_up, base_down, 0.0):
        return None
    level_up = base_up + 0.1 * (chord[j] - base_up)
    level_down = base_down + 0.1 * (chord[j] - base_down)
    a = j
    while a > 0 and chord[a - 1] > level_down:
        a -= 1
    b = j
    while b + 1 < chord.size and chord[b + 1] > level_up:
        b += 1
    return a, b + 1


def _branch(i: np.ndarray, v: np.ndarray, idx: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """The straight line through the samples ``idx`` (two or more), at currents x."""
    idx = idx[(idx >= 0) & (idx < i.size)]
    if idx.size < 2:
        return None
    return np.polyval(np.polyfit(i[idx], v[idx], 1), x)


def switching_current_A(current_A, voltage_V, dip_V: float) -> float | None:
    """I_c in A (positive) at the dip at bias ``dip_V`` (V, its sign picks the branch) from
    a sweep's DC currents (A) and voltages (V): where V(I) has made half of the jump that
    the dip marks (module doc). None when the sweep shows no jump there."""
    i = np.asarray(current_A, dtype=float)
    v = np.asarray(voltage_V, dtype=float)
    ok = np.isfinite(i) & np.isfinite(v) & (np.sign(v) == np.sign(dip_V)) & (i != 0)
    if not math.isfinite(dip_V) or dip_V == 0 or ok.sum() < 6:
        return None
    i, v = np.abs(i[ok]), np.abs(v[ok])
    order = np.argsort(i, kind="stable")
    i, v = i[order], v[order]
    keep = np.concatenate([[True], np.diff(i) > 0])  # repeated currents: first reading
    # the origin is a point of the branch below (no voltage without current)
    i, v = np.concatenate([[0.0], i[keep]]), np.concatenate([[0.0], v[keep]])
    near = int(np.argmin(np.abs(v - abs(dip_V))))
    span = _jump(i, v, near)
    if span is None:
        return None
    a, b = span
    inside = np.arange(a, b + 1)
    # each branch over as much current as the jump spans (two samples at least)
    width = i[b] - i[a]
    below = np.nonzero((i < i[a]) & (i >= i[a] - width))[0]
    above = np.nonzero((i > i[b]) & (i <= i[b] + width))[0]
    v_below = _branch(i, v, below if below.size >= 2 else np.arange(a - 2, a), i[inside])
    v_above = _branch(i, v, above if above.size >= 2 else np.arange(b + 1, b + 3), i[inside])
    if v_below is None or v_above is None:
        return None
    height = v_above - v_below
    if not np.all(height > 0):
        return None
    s = np.clip((v[inside] - v_below) / height, 0.0, 1.0)
    cross = np.nonzero((s[:-1] < 0.5) & (s[1:] >= 0.5))[0]
    if not cross.size:
        return None
    k = int(cross[0])
    x0, x1 = i[inside][k], i[inside][k + 1]
    return float(x0 + (0.5 - s[k]) / (s[k + 1] - s[k]) * (x1 - x0))


def critical_currents_A(current_A, voltage_V, dips_mV: list[float]) -> list[float | None]:
    """:func:`switching_current_A` at each dip (bias in mV), in A; None where no jump."""
    return [switching_current_A(current_A, voltage_V, d * 1e-3) for d in dips_mV]


def find_switches_mV(current_A, voltage_V) -> list[float]:
    """Bias (mV, signed, the middle of the jump) of the innermost switch on each side of a
    current-biased sweep, found in V(I) itself: between samples k and k+1 the straight line
    through the two samples above (k+2, k+3) passes, at the interval's middle current, above
    the line through the two below (k-1, k) by over a fifth of the voltage there and ten
    times the scatter of V's second differences (noise), more than at the neighbouring
    intervals. It finds a switch whose dip the sampled conductance steps over (one sample
    inside the jump, between the levels below and above); smooth Andreev structure offsets
    such lines by its curvature only."""
    i_all = np.asarray(current_A, dtype=float)
    v_all = np.asarray(voltage_V, dtype=float)
    out = []
    for sign in (-1.0, 1.0):
        ok = np.isfinite(i_all) & np.isfinite(v_all) & (i_all * sign > 0)
        if ok.sum() < 6:
            continue
        i, v = np.abs(i_all[ok]), v_all[ok] * sign
        order = np.argsort(i, kind="stable")
        i, v = np.concatenate([[0.0], i[order]]), np.concatenate([[0.0], v[order]])
        keep = np.concatenate([[True], np.diff(i) > 0])
        i, v = i[keep], v[keep]
        noise = float(np.median(np.abs(np.diff(v, 2))))
        k = np.arange(1, i.size - 3)
        mid = 0.5 * (i[k] + i[k + 1])
        below = v[k] + (v[k] - v[k - 1]) / (i[k] - i[k - 1]) * (mid - i[k])
        above = v[k + 2] + (v[k + 3] - v[k + 2]) / (i[k + 3] - i[k + 2]) * (mid - i[k + 2])
        offset = above - below
        for m in range(offset.size):
            if offset[m] > max(0.2 * abs(below[m]), 10.0 * noise) and \
                    offset[m] >= offset[max(m - 1, 0)] and \
                    offset[m] >= offset[min(m + 1, offset.size - 1)]:
                out.append(sign * 0.5 * (v[k[m]] + v[k[m] + 1]) * 1e3)
                break
    return out


def add_dip_currents(result: dict, current_A, voltage_V) -> dict:
    """Add ``dip_currents_A`` (A at each of ``result['dips_mV']``, None where no jump) to a
    fit result of a current-biased sweep, its DC current (A) and voltage (V, the bias
    offset of the fit removed); in place. Without dips in the conductance, switches found
    in V(I) (:func:`find_switches_mV`) go into ``switches_mV`` with their currents (the
    sampling stepped over their dips). Nothing without currents."""
    if current_A is None or voltage_V is None or not len(current_A):
        return result
    v = np.asarray(voltage_V, dtype=float) - float(result.get("offset_mV") or 0.0) * 1e-3
    dips = result.get("dips_mV") or []
    if dips:
        result["dip_currents_A"] = critical_currents_A(current_A, v, dips)
        return result
    switches = find_switches_mV(current_A, v)
    found = [(d, q) for d, q in zip(switches, critical_currents_A(current_A, v, switches))
             if q is not None]
    if found:
        result["switches_mV"] = [d for d, _ in found]
        result["dip_currents_A"] = [q for _, q in found]
    return result
