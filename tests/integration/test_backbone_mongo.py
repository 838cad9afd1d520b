"""insert_many_new on the real document database: what every idempotent consumer leans on."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Bare `pytest` does not put the checkout on sys.path (`python -m pytest` does),
# and tests.support must import either way.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shared.mongo import insert_many_new
from tests.support.backbone import Sandbox

pytestmark = pytest.mark.integration


@pytest.fixture
def collection():
    box = Sandbox()
    yield box.db["applied"]
    box.close()


def test_duplicates_anywhere_in_the_batch_skip_only_themselves(collection):
    collection.insert_many([{"_id": "e-1"}, {"_id": "e-3"}])
    batch = [{"_id": f"e-{n}", "n": n} for n in range(6)]
    # Unordered: the documents after a duplicate are still written (and reported).
    assert insert_many_new(collection, batch) == [0, 2, 4, 5]
    assert sorted(d["_id"] for d in collection.find({})) == [f"e-{n}" for n in range(6)]
    assert collection.find_one({"_id": "e-1"}) == {"_id": "e-1"}  # never overwritten
    assert insert_many_new(collection, batch) == []
    assert insert_many_new(collection, []) == []
