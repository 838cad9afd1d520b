"""apply_event for partial updates, consent and suppression: what an update omits is kept,
and the folded profile is the same whatever order the events arrive in."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

from segments.projection.profiles import (
    announced,
    apply_event,
    is_stub,
    profile_events,
    public_view,
)

from tests.support.profile_events import customer_event, order_event


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def partial(event_id: str, occurred_at: str, **data) -> dict:
    """A customer record carrying only the fields given (plus its required ones)."""
    event = customer_event(event_id, occurred_at)
    event["data"] = {"external_id": "c1", "name": "Asha Rao", "email": "asha@example.com", **data}
    return event


def consent(event_id: str, occurred_at: str, value: str, source: str = "api",
            campaign_id: str | None = None) -> dict:
    return {"event_id": event_id, "event_type": "customer.consent_changed", "event_version": 1,
            "occurred_at": occurred_at, "producer": "ingest", "correlation_id": event_id,
            "causation_id": None, "data": {"external_id": "c1", "marketing_consent": value,
                                           "source": source, "campaign_id": campaign_id}}


def receipts(*receipts_: dict) -> dict:
    return {"event_id": "r1", "event_type": "deliveries.reported", "event_version": 1,
            "occurred_at": "2024-06-01T00:00:00+00:00", "producer": "receipts",
            "correlation_id": "r1", "causation_id": None, "data": {"receipts": list(receipts_)}}


def receipt(message_id: str, reported_at: str, *, status="FAILED", reason="INVALID_NUMBER",
            permanent=True, customer="c1") -> dict:
    return {"message_id": message_id, "campaign_id": message_id.split(".")[0],
            "customer_external_id": customer, "status": status, "reported_at": reported_at,
            "reason": reason, "permanent": permanent, "provider_message_id": None}


def lifted(event_id: str, occurred_at: str) -> dict:
    return {"event_id": event_id, "event_type": "customer.suppression_lifted",
            "event_version": 1, "occurred_at": occurred_at, "producer": "ingest",
            "correlation_id": event_id, "causation_id": None, "data": {"external_id": "c1"}}


def fold(events, profile=None):
    for envelope in events:
        for event in profile_events(envelope):
            profile = apply_event(profile, event)
    return profile


def every_order(events) -> list[dict]:
    return [public_view(fold(permutation)) for permutation in itertools.permutations(events)]


def test_an_update_keeps_the_fields_it_omits_and_null_clears():
    full = customer_event("e1", "2024-04-01T00:00:00+00:00")
    profile = fold([full, partial("e2", "2024-04-02T00:00:00+00:00", city="Mumbai", phone=None)])
    assert profile["city"] == "Mumbai" and profile["phone"] is None
    assert profile["tags"] == ["vip"] and profile["visits"] == 3
    assert profile["last_visit_at"] == at("2024-03-01T10:00:00")
    cleared = fold([partial("e3", "2024-04-03T00:00:00+00:00", tags=None, visits=None)], profile)
    assert cleared["tags"] == [] and cleared["visits"] is None and cleared["city"] == "Mumbai"


def test_partial_updates_fold_the_same_in_any_order():
    events = [customer_event("e1", "2024-04-01T00:00:00+00:00"),
              partial("e2", "2024-04-02T00:00:00+00:00", city="Mumbai"),
              partial("e3", "2024-04-03T00:00:00+00:00", visits=9,
                      marketing_consent="unsubscribed"),
              customer_event("e0", "2024-03-01T00:00:00+00:00", city="Delhi", visits=1),
              order_event("o1", 10.0, "2024-03-05T00:00:00Z")]
    views = every_order(events)
    assert all(view == views[0] for view in views)
    assert views[0]["city"] == "Mumbai" and views[0]["visits"] == 9
    assert views[0]["marketing_consent"] == "unsubscribed"
    assert views[0]["marketing_consent_at"] == at("2024-04-03T00:00:00")


def test_a_new_customer_is_subscribed_and_a_record_without_consent_keeps_it():
    profile = fold([customer_event("e1", "2024-04-01T00:00:00+00:00")])
    assert profile["marketing_consent"] == "subscribed" and profile["marketing_consent_at"] is None
    profile = fold([consent("k1", "2024-04-02T00:00:00+00:00", "unsubscribed", "link", "cmp1"),
                    customer_event("e2", "2024-04-03T00:00:00+00:00", city="Goa")], profile)
    assert profile["marketing_consent"] == "unsubscribed" and profile["city"] == "Goa"
    assert profile["marketing_consent_at"] == at("2024-04-02T00:00:00")


def test_the_latest_consent_wins_whichever_source_in_any_order():
    events = [customer_event("e1", "2024-04-01T00:00:00+00:00", marketing_consent="subscribed"),
              consent("k1", "2024-04-02T00:00:00+00:00", "unsubscribed"),
              consent("k2", "2024-04-04T00:00:00+00:00", "subscribed"),
              partial("e3", "2024-04-03T00:00:00+00:00", marketing_consent="unsubscribed")]
    views = every_order(events)
    assert {view["marketing_consent"] for view in views} == {"subscribed"}
    assert {view["marketing_consent_at"] for view in views} == {at("2024-04-04T00:00:00")}


def test_a_consent_change_alone_does_not_make_a_customer_of_a_stub():
    profile = fold([order_event("o1", 5.0, "2024-03-05T00:00:00Z"),
                    consent("k1", "2024-04-02T00:00:00+00:00", "unsubscribed")])
    assert is_stub(profile) and profile["marketing_consent"] == "unsubscribed"


def test_only_permanent_failures_suppress():
    kept = receipts(receipt("cmp1.1.1", "2024-06-01T10:00:00Z", permanent=False,
                            reason="UNREACHABLE"),
                    receipt("cmp1.1.2", "2024-06-01T10:00:00Z", status="SENT", reason=None),
                    receipt("cmp1.1.3", "2024-06-01T10:00:00Z", customer=None))
    assert profile_events(kept) == []
    profile = fold([customer_event("e1", "2024-04-01T00:00:00+00:00"),
                    receipts(receipt("cmp1.1.4", "2024-06-01T10:00:00Z"))])
    assert profile["suppressed"] is True and profile["suppression_reason"] == "INVALID_NUMBER"
    assert profile["suppressed_since"] == at("2024-06-01T10:00:00")
    assert profile["suppression_campaign_id"] == "cmp1"
    shown = announced(profile)
    assert shown["suppressed"] is True and shown["suppressed_since"] == "2024-06-01T10:00:00.000Z"


def test_lifting_and_failing_again_fold_by_time_in_any_order():
    events = [customer_event("e1", "2024-04-01T00:00:00+00:00"),
              receipts(receipt("cmp1.1.4", "2024-06-01T10:00:00Z")),
              lifted("l1", "2024-06-02T00:00:00+00:00"),
              receipts(receipt("cmp2.1.9", "2024-06-03T10:00:00Z"))]
    views = every_order(events)
    assert all(view == views[0] for view in views)
    assert views[0]["suppressed"] is True and views[0]["suppression_campaign_id"] == "cmp2"
    without_last = every_order(events[:3])
    assert {view["suppressed"] for view in without_last} == {False}
    assert {view["suppression_reason"] for view in without_last} == {None}


def test_a_profile_from_before_consent_reads_as_subscribed_not_suppressed():
    old = fold([customer_event("e1", "2024-04-01T00:00:00+00:00")])
    for name in ("marketing_consent", "marketing_consent_at", "suppressed", "suppression_reason",
                 "suppressed_since", "suppression_campaign_id"):
        del old[name]
    assert public_view(old)["marketing_consent"] == "subscribed"
    assert announced(old)["suppressed"] is False
    updated = apply_event(old, consent("k1", "2024-04-02T00:00:00+00:00", "unsubscribed"))
    assert updated["marketing_consent"] == "unsubscribed" and updated["suppressed"] is False
