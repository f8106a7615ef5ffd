"""Simulated inference engines for the e2e tier (see engine.py)."""
