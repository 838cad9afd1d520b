"""The projector forgets its cached profiles when it reconnects to the broker.

While it was cut off, a standby replica may have become the single active
consumer and written profiles; trusting the cache afterwards would write stale
copies over them.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from segments.projection.profile_store import ProfileStore
from segments.projection.profiles import apply_event

from shared import mongo
from shared.backbone.publisher import Publisher
from tests.support.faultproxy import FaultProxy
from tests.support.profiles import (
    BASE,
    customer_upserted,
    order_placed,
    queue_consumers,
    running_projector,
    through,
    wait_for,
)

pytestmark = pytest.mark.integration



def test_profiles_written_while_the_projector_was_away_are_not_overwritten(config):
    url = urlsplit(config.settings.amqp_url)
    client = mongo.connect(config.settings)
    store = ProfileStore(client[config.database_name])
    publisher = Publisher(config.settings)  # straight to the broker, not through the proxy
    try:
        with FaultProxy(url.hostname, url.port or 5672) as proxy:
            projector_config = through(proxy, config)
            with running_projector(projector_config):
                publisher.publish([customer_upserted("c1"),
                                   order_placed("o1", "c1", 100, BASE)])
                wait_for(lambda: (p := store.find("c1")) and p["order_count"] == 1, "o1")

                proxy.refuse()
                proxy.cut()
                # Meanwhile another projector (now the active one) counts an order.
                store.replace([apply_event(store.find("c1"),
                                           order_placed("o-standby", "c1", 7, BASE))])
                proxy.accept()
                wait_for(lambda: queue_consumers(projector_config) == 1, "the reconnect")
                assert proxy.accepted >= 2

                publisher.publish([order_placed("o2", "c1", 10, BASE)])
                profile = wait_for(lambda: (p := store.find("c1")) and
                                   "o2" in p["projection"]["order_ids"] and p, "o2")
        assert sorted(profile["projection"]["order_ids"]) == ["o-standby", "o1", "o2"]
        assert (profile["order_count"], profile["total_spend"]) == (3, 117.0)
    finally:
        publisher.close()
        client.close()
