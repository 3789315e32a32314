"""The simulated lab: instrument emulators speaking the real command sets over real
transports (pyvisa-py TCP sockets), sharing one virtual cryostat and point contact.

``sim.lab.SimLab`` holds the physical state; ``sim.emulators`` the per-instrument command
parsers; ``sim.server`` the TCP transport and fault injection; ``sim.inprocess`` an adapter
that calls an emulator directly (fast unit tests through the same emulator code).
"""
