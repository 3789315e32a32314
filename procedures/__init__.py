"""Measurement procedures (pymeasure Procedures) using instruments by role."""
