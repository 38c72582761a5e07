"""Semantic Scout: what breaks if I change X? (import name ``scout``)."""

__version__ = "0.1.0"
