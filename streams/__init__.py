"""Floorwatch: real-time contact-centre metrics (engine, runtimes, exporter, CLI)."""

__version__ = "0.1.0"
