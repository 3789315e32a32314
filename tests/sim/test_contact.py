import numpy as np

from pcsdaq.sim.contact import OPEN_RESISTANCE_OHM, Contact


class FakeLab:
    def __init__(self, seed=7):
        self.rng = np.random.default_rng(seed)


def approach(contact, voltage=30.0, burst=50, max_bursts=2000):
    for _ in range(max_bursts):
        if contact.touching:
            return
        contact.step(burst, voltage)
    raise AssertionError("never touched")


def test_open_until_touch_then_resistance_falls():
    c = Contact(FakeLab(), {"gap_m": 5e-6})
    assert c.normal_resistance_ohm() == OPEN_RESISTANCE_OHM
    approach(c)
    r0 = c.normal_resistance_ohm()
    assert 1.0 < r0 <= 50.0
    c.step(100, 30.0)
    assert c.normal_resistance_ohm() < r0
    c.step(5000, 30.0)
    assert 1.0 <= c.normal_resistance_ohm() < 1.1
    c.step(-20000, 30.0)
    assert not c.touching and c.params is None


def test_draws_are_deterministic_and_plausible():
    tcs = []
    for _ in range(2):
        c = Contact(FakeLab(seed=3), {"gap_m": 1e-6})
        approach(c)
        tcs.append(c.params)
    assert tcs[0] == tcs[1]
    p = tcs[0]
    assert 2.0 <= p.tc_K <= 21.0
    assert 0.1 <= p.z <= 1.0
    assert abs(p.delta0_meV / (0.08617 * p.tc_K) - 1.764) < 0.5


def test_sc_sample_is_not_superconducting():
    c = Contact(FakeLab(), {"gap_m": 1e-6, "sample": "Sc"})
    approach(c)
    assert c.params.tc_K == 0.0
