"""One emulator per instrument model: parse the real command set, answer as the box does."""
