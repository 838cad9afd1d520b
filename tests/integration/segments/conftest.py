"""Fixtures of the segments integration tests: each test its own database prefix,
queue prefix and exchanges (tests/support/profiles.py, audiences.py), all deleted
afterwards. `config` here is the API process's (an audience index replica);
projection/conftest.py gives the projector tests their own."""
from __future__ import annotations

import pytest
from segments.projection.profile_store import ProfileStore

from shared import mongo
from shared.backbone.publisher import Publisher
from tests.support.audiences import clean_up_segments, segments_config


@pytest.fixture
def config():
    config = segments_config()
    yield config
    clean_up_segments(config)


@pytest.fixture
def client(config):
    client = mongo.connect(config.settings)
    yield client
    client.close()


@pytest.fixture
def publisher(config):
    publisher = Publisher(config.settings)
    yield publisher
    publisher.close()


@pytest.fixture
def store(config):
    client = mongo.connect(config.settings)
    yield ProfileStore(client[config.database_name])
    client.close()
