import math

import pytest

from pcsdaq.clock import VirtualClock
from pcsdaq.sim.chain import OutputFilter


@pytest.mark.parametrize("poles", [1, 2, 3, 4])
def test_step_response_matches_n_pole_formula(poles):
    clock = VirtualClock()
    f = OutputFilter(clock, time_constant_s=0.3, poles=poles)
    f.set_input(1.0)
    for t in (0.1, 0.3, 0.9, 2.0):
        clock.sleep(t - clock.now())
        x = t / 0.3
        expected = 1 - math.exp(-x) * sum(x ** m / math.factorial(m) for m in range(poles))
        assert f.output().real == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_short_wait_smears_and_long_wait_settles():
    clock = VirtualClock()
    f = OutputFilter(clock, time_constant_s=1.0, poles=4)
    f.set_input(2.0)
    clock.sleep(1.0)
    assert f.output().real < 0.1
    clock.sleep(f.settle_time_s(1e-4))
    assert f.output().real == pytest.approx(2.0, rel=2e-4)
