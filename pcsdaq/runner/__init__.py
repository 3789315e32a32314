"""The one run engine (plans, queue, pause/resume/abort, safe states, progress) for CLI and GUI."""
