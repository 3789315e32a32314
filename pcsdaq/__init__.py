"""pcsdaq: acquisition and analysis for point-contact Andreev reflection spectroscopy.

Layers (see docs/architecture.md): ``pcsdaq.drivers`` (one class per instrument
model) -> ``pcsdaq.station`` (instruments by role, limits) -> ``pcsdaq.procedures`` ->
``pcsdaq.runner`` (one engine for CLI and GUI); ``pcsdaq.storage`` (HDF5 runs),
``pcsdaq.physics`` (pure models) and ``pcsdaq.analysis`` (fits); ``pcsdaq.sim`` (the
simulated lab speaking the real command sets).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pcsdaq")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
