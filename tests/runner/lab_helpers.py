"""Helpers the engine tests share, in a module of their own name: a test that imported them
from ``conftest`` got whichever folder's conftest pytest had imported last (tests/gui's when
a run collected it first)."""


def walk_in(lab, low=20.0, high=40.0):
    """Put the simulated needle in contact with R inside [low, high] Ohm (no station I/O)."""
    return lab.contact.place(high, low)
