"""Station files shipped with pcsdaq (read them with importlib.resources)."""
