"""The lab GUI (PyQt6 + pyqtgraph): a view on the run engine."""
