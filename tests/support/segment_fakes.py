"""Fakes and helpers shared by unit tests (moved here so no test module imports another)."""
from __future__ import annotations


class FakeScan:
    """The part of ProfileStore that load_index reads: every profile, stubs too."""

    def __init__(self, profiles):
        self.profiles = profiles

    def scan(self, batch_size):
        for start in range(0, len(self.profiles), batch_size):
            yield [dict(p) for p in self.profiles[start:start + batch_size]]


class FakeAudience:
    """audience.AudienceHolder without threads."""

    def __init__(self, index, ready=True):
        self.index, self.ready, self.serving = index, ready, ready

    def status(self):
        return {"state": "ready" if self.ready else "loading", "loaded": 1200, "total": 5000}

    def ensure_started(self):
        pass


class FakeDatabase:
    def reachable(self):
        return True
