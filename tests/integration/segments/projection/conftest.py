"""The profile projector tests' `config`: no audience index replica to clean up."""
from __future__ import annotations

import pytest

from tests.support.profiles import clean_up, isolated_config


@pytest.fixture
def config():
    config = isolated_config()
    yield config
    clean_up(config)
