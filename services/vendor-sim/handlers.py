"""Accepting a batch of messages to send."""
from __future__ import annotations

from vendor_sim import domain


def accept_messages(messages: list[dict], *, store, courier) -> list[dict]:
    """Persist the batch (one insert), schedule the new ones, answer every one as ACCEPTED.

    A message already accepted (same message_id) is neither stored nor sent again; its
    answer is the same as the first time. The last of a repeated id within a batch is
    ignored. A `test` message (a campaign's test send) is stored but gets no receipt.
    """
    unique: dict[str, dict] = {}
    for message in messages:
        unique.setdefault(message["message_id"], message)
    documents = [{"_id": message_id, "to": message["to"], "text": message["text"],
                  "metadata": message.get("metadata"), "test": bool(message.get("test")),
                  "provider_message_id": domain.provider_message_id(message_id)}
                 for message_id, message in unique.items()]
    new = store.accept(documents)
    courier.schedule([document for document in new if not document["test"]])
    return [{"message_id": message["message_id"],
             "provider_message_id": domain.provider_message_id(message["message_id"]),
             "status": "ACCEPTED"} for message in messages]
