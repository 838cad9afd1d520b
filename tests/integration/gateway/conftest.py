"""Fixtures of the gateway's integration tests."""
from __future__ import annotations

import pytest

from shared import mongo


@pytest.fixture
def gateway_settings(settings):
    """The suite's per-test `settings` (tests/conftest.py); the gateway database is
    dropped afterwards."""
    yield settings
    client = mongo.connect(settings)
    client.drop_database(settings.database_name("gateway"))
    client.close()
