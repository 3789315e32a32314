"""Pure numpy physics models, shared by the simulated lab and the fitter (no I/O).

Modules: ``btk`` (BTK conductance with Dynes broadening, T = 0 and finite T), ``andreev``
(spin-polarised and two-gap BTK with analytic gradients, the fitter's models), ``bcs``
(Delta(T), field suppression), ``wexler`` (contact diameter), ``thermal`` (thermal-regime
spectra with critical-current dips), ``rt`` (R(T) of a contact through a broad transition).
Energies in meV where the physics is written in meV (said in each docstring); SI elsewhere.
"""
