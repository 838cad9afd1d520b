"""insert_many_new on the real document database: what every idempotent consumer leans on."""
from __future__ import annotations

import pytest

from shared.mongo import insert_many_new
from tests.support import backbone

pytestmark = pytest.mark.integration
sandbox = backbone.sandbox  # fixture: pytest finds fixtures by module-level name


@pytest.fixture
def collection(sandbox):
    return sandbox.db["applied"]


def test_duplicates_anywhere_in_the_batch_skip_only_themselves(collection):
    collection.insert_many([{"_id": "e-1"}, {"_id": "e-3"}])
    batch = [{"_id": f"e-{n}", "n": n} for n in range(6)]
    # Unordered: the documents after a duplicate are still written (and reported).
    assert insert_many_new(collection, batch) == [0, 2, 4, 5]
    assert sorted(d["_id"] for d in collection.find({})) == [f"e-{n}" for n in range(6)]
    assert collection.find_one({"_id": "e-1"}) == {"_id": "e-1"}  # never overwritten
    assert insert_many_new(collection, batch) == []
    assert insert_many_new(collection, []) == []
