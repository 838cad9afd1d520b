"""The whole suite, started as `crm up` starts it, on its own ports and prefixes."""
from __future__ import annotations

import pytest

from tests.support.suite import api_session, running_suite


@pytest.fixture(scope="session")
def suite():
    with running_suite("e2e") as started:
        yield started


@pytest.fixture(scope="session")
def api(suite):
    """A requests session to the gateway, authorised with a fresh API key."""
    stack, settings = suite
    return api_session(stack, settings, "e2e")
