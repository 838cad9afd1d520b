"""customer.upserted and order.placed envelopes as ingest logs them (projection unit tests)."""
from __future__ import annotations


def customer_event(event_id: str, occurred_at: str, **data) -> dict:
    data = {"external_id": "c1", "name": "Asha Rao", "email": "asha@example.com", "phone": None,
            "city": "Pune", "tags": ["vip"], "signed_up_at": "2024-01-01T00:00:00+00:00",
            "visits": 3, "last_visit_at": "2024-03-01T10:00:00+00:00", **data}
    return {"event_id": event_id, "event_type": "customer.upserted", "event_version": 1,
            "occurred_at": occurred_at, "producer": "ingest", "correlation_id": event_id,
            "causation_id": None, "data": data}


def order_event(order_id: str, amount: float, placed_at: str, customer: str = "c1") -> dict:
    return {"event_id": f"e-{order_id}", "event_type": "order.placed", "event_version": 1,
            "occurred_at": "2024-05-01T00:00:00+00:00", "producer": "ingest",
            "correlation_id": "x", "causation_id": None,
            "data": {"external_id": order_id, "customer_external_id": customer,
                     "amount": amount, "placed_at": placed_at}}
