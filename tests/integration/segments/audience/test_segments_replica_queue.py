"""A replica whose queue vanished while it was cut off (x-expires) reloads its index.

The update announced while the replica was away sat in its queue and went
with it; consuming a freshly declared queue would never bring it back.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from segments import bootstrap
from segments.database import SegmentsDatabase
from segments.projection.profile_store import ProfileStore

from shared import mongo
from shared.backbone import broker
from shared.backbone.publisher import Publisher
from tests.support.audiences import running_index, waiting
from tests.support.faultproxy import FaultProxy
from tests.support.profiles import customer_upserted, running_projector, through, wait_for

pytestmark = pytest.mark.integration


PUNE = {"field": "city", "op": "eq", "value": "Pune"}


def test_a_replica_whose_queue_was_deleted_while_away_reloads(config):
    url = urlsplit(config.settings.amqp_url)
    client = mongo.connect(config.settings)
    store = ProfileStore(client[config.database_name])
    publisher = Publisher(config.settings)
    try:
        with running_projector(config), FaultProxy(url.hostname, url.port or 5672) as proxy:
            publisher.publish([customer_upserted(f"c{i}", city="Delhi") for i in range(5)])
            wait_for(lambda: all(store.find(f"c{i}") for i in range(5)), "the customers")
            with running_index(through(proxy, config)) as (holder, http):
                wait_for(lambda: len(holder.index) == 5, "the customers in the index")
                proxy.refuse()
                proxy.cut()
                publisher.publish([customer_upserted("c0", city="Pune")])
                wait_for(lambda: waiting(config) >= 1, "the announcement in the replica queue")
                connection = broker.connect(config.settings)
                connection.channel().queue_delete(config.index_queue)  # as x-expires would
                connection.close()
                proxy.accept()

                def pune() -> int:
                    response = http.post("/api/v1/segments/preview", json={"rules": PUNE})
                    return response.get_json()["count"]
                wait_for(lambda: pune() == 1, "the reload to find c0 in Pune", timeout=60)
                assert holder.status()["state"] == "ready" and len(holder.index) == 5
                wait_for(lambda: holder.serving, "consuming again")
                publisher.publish([customer_upserted("c1", city="Pune")])
                wait_for(lambda: pune() == 2, "updates flowing into the new queue")
    finally:
        publisher.close()
        client.close()


def test_a_second_process_with_the_same_replica_id_is_refused_until_the_first_stops(config):
    database = SegmentsDatabase(config.settings, config.database_name)
    with running_index(config):
        second = bootstrap.audience_holder(config, database)
        second.ensure_started()
        try:
            wait_for(lambda: second._audience_consumer is not None and
                     second._audience_consumer.consuming, "the second replica's other consumer")
            time.sleep(1.0)  # its feed has tried the exclusive queue by now
            assert second.ready and not second.serving
        except BaseException:
            second.stop()
            raise
    try:
        wait_for(lambda: second.serving, "the second replica taking over the queue", timeout=60)
    finally:
        second.stop()
