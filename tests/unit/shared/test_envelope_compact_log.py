"""Log documents of big events keep `data` as one JSON string (cheap for FerretDB)."""
from __future__ import annotations

from shared.backbone import envelope, events

FIELDS = {"name": "Asha Rao", "first_name": "Asha", "email": "asha@example.com", "phone": None,
          "city": "Mysuru", "tags": ["vip"], "order_count": 2, "signed_up_at": None,
          "last_order_at": "2024-05-01T10:00:00.000Z", "last_visit_at": None,
          "last_active_at": None, "marketing_consent": "subscribed", "suppressed": False}


def _chunk(recipients: int) -> dict:
    return envelope.new_event(events.AUDIENCE_CHUNK, {
        "request_id": "c:1", "chunk_index": 0, "chunk_count": 1, "audience_size": recipients,
        "recipients": [{**FIELDS, "external_id": f"c-{n}", "total_spend": 10.25 * n,
                        "visits": n} for n in range(recipients)]}, producer="segments")


def test_a_big_event_is_logged_as_json_text_and_read_back_exactly():
    event = _chunk(envelope.COMPACT_LIST_LENGTH)
    document = {**envelope.to_log(event), "recorded_at": "2024-05-01T10:00:01+00:00"}
    assert isinstance(document["data"], str)
    assert document["_id"] == event["event_id"]
    assert document["occurred_at"] == event["occurred_at"]  # still readable by field
    assert envelope.logged(document) == event
    assert envelope.from_log(document) == event
    # a republish from the log sends the very bytes the first publish sent
    assert envelope.encode(envelope.logged(document)) == envelope.encode(event)


def test_a_small_event_is_logged_as_a_document():
    event = _chunk(envelope.COMPACT_LIST_LENGTH - 1)
    document = envelope.to_log(event)
    assert document["data"] == event["data"] and "data_encoding" not in document
    assert envelope.logged(document) == event
