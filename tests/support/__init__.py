"""Helpers shared by tests: no fixtures with side effects at import time."""
