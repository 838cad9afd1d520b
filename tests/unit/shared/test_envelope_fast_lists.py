"""decode's fast path for lists of flat records answers exactly what marshmallow does."""
from __future__ import annotations

import json

import pytest

from shared.backbone import envelope, events

RECIPIENT = {"external_id": "c-1", "name": "Asha Rao", "first_name": "Asha",
             "email": "asha@example.com", "phone": None, "city": "Mysuru", "tags": ["vip"],
             "visits": 3, "total_spend": 120.5, "order_count": 2,
             "last_order_at": "2024-05-01T10:00:00.000Z", "last_visit_at": None,
             "last_active_at": None, "signed_up_at": "2023-01-01T00:00:00.000Z"}
MESSAGE = {"message_id": "c:1:000000001", "customer_external_id": "c-1",
           "to": "asha@example.com", "text": "Hi Asha"}


def _chunk(*recipients) -> dict:
    return envelope.new_event(events.AUDIENCE_CHUNK, {
        "request_id": "c:1", "chunk_index": 0, "chunk_count": 1,
        "audience_size": len(recipients), "recipients": list(recipients)}, producer="segments")


def _queued(*messages, **data) -> dict:
    return envelope.new_event(events.MESSAGES_QUEUED, {
        "campaign_id": "c", "attempt": 1, "messages": list(messages), **data},
        producer="campaigns")


def _marshmallow(event: dict) -> dict:
    return events.upcast(envelope.EnvelopeSchema().load(json.loads(envelope.encode(event))))


CASES = {
    "plain": _chunk(RECIPIENT, {**RECIPIENT, "external_id": "c-2"}),
    "defaults filled": _chunk({"external_id": "c-1"}, {"external_id": "c-2", "tags": None}),
    "an int spend becomes a float": _chunk({**RECIPIENT, "total_spend": 120}),
    "an unknown key is dropped": _chunk({**RECIPIENT, "coupon": "X"}),
    "a numeric string is converted": _chunk({**RECIPIENT, "visits": "7"}),
    "empty audience": _chunk(),
    "queued messages": _queued(MESSAGE, {**MESSAGE, "to": None}, send_rate=2),
    "unknown data key": _queued(MESSAGE, coupon="X"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_fast_path_loads_what_marshmallow_loads(name):
    event = CASES[name]
    decoded = envelope.decode(envelope.encode(event))
    expected = _marshmallow(event)
    assert decoded == expected
    # types too (5 == 5.0 in Python, not in JSON)
    assert envelope.encode(decoded) == envelope.encode(expected)


def test_the_fast_path_is_taken_for_plain_records():
    event = CASES["plain"]
    assert envelope._load_lists_fast(envelope.EnvelopeSchema().load(event)) == _marshmallow(event)


@pytest.mark.parametrize("bad", [
    {**RECIPIENT, "visits": "many"},
    {**RECIPIENT, "tags": [1]},
    {**RECIPIENT, "total_spend": True},
    {**RECIPIENT, "suppressed": "maybe"},
    {**RECIPIENT, "suppressed": [True]},
    {**RECIPIENT, "external_id": None},
    {"name": "no id"},
    "not a record",
])
def test_invalid_records_are_refused_as_before(bad):
    with pytest.raises(envelope.BadEvent) as fast:
        envelope.decode(envelope.encode(_chunk(RECIPIENT, bad)))
    with pytest.raises(envelope.BadEvent) as slow:
        _marshmallow(_chunk(RECIPIENT, bad))
    assert str(fast.value) == str(slow.value)


def test_a_nan_spend_is_refused_as_before():
    body = envelope.encode(_chunk(RECIPIENT)).replace(b'"total_spend":120.5', b'"total_spend":NaN')
    with pytest.raises(envelope.BadEvent):
        envelope.decode(body)
