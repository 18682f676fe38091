"""Benchmarks of Le Stats Sportif: ``python -m bench`` (``make bench``); never part of the tests."""
